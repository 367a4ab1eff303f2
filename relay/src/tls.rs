//! TLS for pipes (rustls with the ring provider): the relay's acceptor from PEM files, and
//! a client connector trusting given roots.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The certificate or key could not be used.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error(
        "cannot read {what} from PEM: {detail}; pass a PEM certificate chain and a PEM private key"
    )]
    Pem {
        /// Certificate or key.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Config(#[from] rustls::Error),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The relay's TLS acceptor for a certificate chain and private key (PEM files).
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Pem {
            what: "certificate",
            detail: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Pem {
        what: "private key",
        detail: e.to_string(),
    })?;
    acceptor_from_der(chain, key)
}

/// The relay's TLS acceptor for DER values.
pub fn acceptor_from_der(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, TlsError> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A client connector trusting exactly `roots`.
pub fn connector(roots: &[CertificateDer<'static>]) -> Result<TlsConnector, TlsError> {
    let mut store = RootCertStore::empty();
    for r in roots {
        store.add(r.clone())?;
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
