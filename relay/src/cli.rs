//! The `bluetick-relay` command line, as a library function so that any executable can
//! run the relay as its own process (the demo starts it this way).
//!
//! ```text
//! bluetick-relay [--listen 127.0.0.1:7600] [--backend sqlite | nats://HOST:PORT[,nats://...]]
//!                [--replicas N] [--db relay.db] [--cert chain.pem --key key.pem] [--quiet]
//! ```
//!
//! The backend is the embedded SQLite database at `--db` by default; with `--backend
//! nats://...` it is NATS JetStream, and several relay nodes given the same NATS servers
//! serve the same devices (`--replicas`: copies of the stream and the bucket, 3 on a
//! three-node NATS cluster).
//!
//! Prints `listening on ws://ADDRESS` (or `wss://`) once it accepts connections; with
//! port 0 the address shows the port the system chose.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::{Limits, Log, NatsBackend, NatsConfig, Relay, RelayBackend, SqliteBackend};

struct Args {
    listen: SocketAddr,
    /// NATS server URLs; empty: SQLite.
    nats: Vec<String>,
    replicas: usize,
    db: PathBuf,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    log: Log,
}

const USAGE: &str = "usage: bluetick-relay [--listen ADDR:PORT] [--backend sqlite | nats://HOST:PORT[,nats://...]] [--replicas N] [--db PATH] [--cert CHAIN.pem --key KEY.pem] [--quiet]";

fn parse(argv: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 7600)),
        nats: Vec::new(),
        replicas: 1,
        db: PathBuf::from("relay.db"),
        cert: None,
        key: None,
        log: Log::Stderr,
    };
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--listen" => {
                args.listen = value("--listen")?
                    .parse()
                    .map_err(|e| format!("--listen: {e}"))?;
            }
            "--backend" => {
                let v = value("--backend")?;
                args.nats = if v == "sqlite" {
                    Vec::new()
                } else {
                    let urls: Vec<String> = v.split(',').map(str::to_owned).collect();
                    if urls.iter().any(|u| !u.starts_with("nats://")) {
                        return Err(format!("--backend: sqlite or nats://HOST:PORT, not {v}"));
                    }
                    urls
                };
            }
            "--replicas" => {
                args.replicas = value("--replicas")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=5).contains(n))
                    .ok_or("--replicas: a number from 1 to 5")?;
            }
            "--db" => args.db = value("--db")?.into(),
            "--cert" => args.cert = Some(value("--cert")?.into()),
            "--key" => args.key = Some(value("--key")?.into()),
            "--quiet" => args.log = Log::Off,
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.cert.is_some() != args.key.is_some() {
        return Err(format!("--cert and --key go together\n{USAGE}"));
    }
    Ok(args)
}

async fn run(args: Args) -> Result<(), String> {
    let tls = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => Some(crate::tls::acceptor(c, k).map_err(|e| e.to_string())?),
        _ => None,
    };
    let limits = Limits::default();
    let backend: Arc<dyn RelayBackend> = if args.nats.is_empty() {
        Arc::new(SqliteBackend::open(&args.db).map_err(|e| format!("{}: {e}", args.db.display()))?)
    } else {
        let config = NatsConfig {
            servers: args.nats.clone(),
            replicas: args.replicas,
            limits: limits.queue,
        };
        Arc::new(
            NatsBackend::connect(&config)
                .await
                // The URLs may carry credentials: not repeated here.
                .map_err(|e| format!("NATS backend: {e}"))?,
        )
    };
    let relay = Relay::new(backend, limits, args.log);
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let (local, task) = crate::start(args.listen, relay, tls)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {scheme}://{local}");
    let _ = out.flush();
    drop(out);
    tokio::select! {
        _ = task => Err("the accept loop stopped".to_owned()),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Runs the relay with command-line `args` (without the program name) until Ctrl-C.
pub fn main_with_args(args: impl IntoIterator<Item = String>) -> ExitCode {
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bluetick-relay: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Args, String> {
        parse(v.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn backend_is_sqlite_unless_nats_servers_are_given() {
        let a = args(&[]).unwrap();
        assert!(a.nats.is_empty());
        assert_eq!(a.replicas, 1);
        assert!(args(&["--backend", "sqlite"]).unwrap().nats.is_empty());
        let a = args(&[
            "--backend",
            "nats://10.0.0.1:4222,nats://10.0.0.2:4222",
            "--replicas",
            "3",
        ])
        .unwrap();
        assert_eq!(a.nats, ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]);
        assert_eq!(a.replicas, 3);
        assert!(args(&["--backend", "redis://x:1"]).is_err());
        assert!(args(&["--backend", "nats://a:1,sqlite"]).is_err());
        assert!(args(&["--replicas", "0"]).is_err());
        assert!(args(&["--replicas", "many"]).is_err());
        assert!(args(&["--backend"]).is_err());
    }
}
