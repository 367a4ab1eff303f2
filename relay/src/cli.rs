//! The `bluetick-relay` command line, as a library function so that any executable can
//! run the relay as its own process (the demo starts it this way).
//!
//! ```text
//! bluetick-relay [--listen 127.0.0.1:7600] [--db relay.db] [--cert chain.pem --key key.pem] [--quiet]
//! ```
//!
//! Prints `listening on ws://ADDRESS` (or `wss://`) once it accepts connections; with
//! port 0 the address shows the port the system chose.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::{Limits, Log, Relay, SqliteBackend};

struct Args {
    listen: SocketAddr,
    db: PathBuf,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    log: Log,
}

const USAGE: &str = "usage: bluetick-relay [--listen ADDR:PORT] [--db PATH] [--cert CHAIN.pem --key KEY.pem] [--quiet]";

fn parse(argv: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 7600)),
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
    let backend =
        SqliteBackend::open(&args.db).map_err(|e| format!("{}: {e}", args.db.display()))?;
    let relay = Relay::new(Arc::new(backend), Limits::default(), args.log);
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
