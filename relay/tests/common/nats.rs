//! A `nats-server -js` of the test's own, on a free 127.0.0.1 port with its own store
//! directory, stopped (SIGKILL) when dropped, and relay nodes as processes over it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::WAIT;

/// Where `nats-server` is, if installed (`.ci/run` installs Debian's package).
pub fn nats_server_binary() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/bin", "/usr/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

/// `None`, after saying why, when nats-server is not installed: the only case in which
/// the NATS tests pass without running.
pub fn nats_or_skip(test: &str) -> Option<PathBuf> {
    let found = nats_server_binary();
    if found.is_none() {
        eprintln!(
            "SKIPPED {test}: nats-server is not installed (apt-get install nats-server; .ci/run does it)"
        );
    }
    found
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct NatsServer {
    binary: PathBuf,
    child: Option<Child>,
    pub port: u16,
    pub cluster_port: Option<u16>,
    routes: Vec<u16>,
    name: String,
    pub dir: PathBuf,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl NatsServer {
    /// A single server with JetStream, its store under `dir`.
    pub fn start(binary: &Path, dir: &Path) -> Self {
        Self::start_node(binary, dir, "n1", None, Vec::new())
    }

    /// One node of a cluster: `cluster_port` its route port, `routes` the others'.
    pub fn start_node(
        binary: &Path,
        dir: &Path,
        name: &str,
        cluster_port: Option<u16>,
        routes: Vec<u16>,
    ) -> Self {
        let mut s = Self {
            binary: binary.to_owned(),
            child: None,
            port: free_port(),
            cluster_port,
            routes,
            name: name.to_owned(),
            dir: dir.to_owned(),
        };
        s.launch();
        s
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        std::fs::create_dir_all(&self.dir).unwrap();
        let store = self.dir.join("store");
        let mut conf = format!(
            "server_name: {name}\nlisten: 127.0.0.1:{port}\nmax_payload: 4MB\n\
             jetstream {{\n  store_dir: \"{store}\"\n  max_memory_store: 64MB\n  max_file_store: 1GB\n}}\n",
            name = self.name,
            port = self.port,
            store = store.display()
        );
        if let Some(cp) = self.cluster_port {
            let routes: Vec<String> = self
                .routes
                .iter()
                .map(|p| format!("nats-route://127.0.0.1:{p}"))
                .collect();
            conf.push_str(&format!(
                "cluster {{\n  name: bluetick\n  listen: 127.0.0.1:{cp}\n  routes: [{}]\n}}\n",
                routes.join(", ")
            ));
        }
        let conf_path = self.dir.join("nats.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("nats.log"))
            .unwrap();
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        // Ready once it accepts connections (JetStream is recovered before that).
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not start: {}",
                std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: nothing of the server's shutdown runs.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and store directory.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

/// A `bluetick-relay` process over NATS.
pub struct RelayNode {
    child: Child,
    pub port: u16,
}

impl Drop for RelayNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RelayNode {
    pub fn start(binary: &str, nats: &str, replicas: usize, log: &Path) -> Self {
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--backend", nats, "--replicas"])
            .arg(replicas.to_string());
        let (child, port) = super::spawn_relay(command, log);
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}
