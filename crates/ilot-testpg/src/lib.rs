//! Throwaway PostgreSQL clusters for Ilot's tests and benches (dev-only, never shipped).
//!
//! [`shared`] starts one cluster per test process (initdb in a temporary folder, a free port on
//! 127.0.0.1, trust authentication) and [`Cluster::fresh_database`] gives each test its own
//! database, so tests stay isolated and fast. `ILOT_TEST_POSTGRES_URL` points everything at an
//! existing server instead. When no PostgreSQL binaries exist this fails with a message saying
//! how to install them: a PostgreSQL test never skips silently.
//!
//! As root (containers, CI) initdb refuses to run, so the server programs run as the
//! `postgres` system user through `runuser`. A watchdog process stops the cluster and removes
//! its folder when the test process ends, since a `static` is never dropped.
//!
//! [`Cluster::start_tls`] starts a cluster that also serves TLS (`ssl=on`) with a certificate
//! for `localhost` and `127.0.0.1` signed by a test CA made for it ([`Cluster::ca_file`]).
//!
//! This crate must not be a dependency of anything but tests and benches.

mod error;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

pub use error::{Result, TestPgError};

/// The environment variable naming an existing server (`postgres://user@host:port/db`) to use
/// instead of starting one; the user must be allowed to create databases.
pub const URL_ENV: &str = "ILOT_TEST_POSTGRES_URL";

/// The cluster shared by every test of this process, started on first use.
pub fn shared() -> Result<&'static Cluster> {
    static SHARED: OnceLock<std::result::Result<Cluster, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| Cluster::from_env_or_start().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| TestPgError::Command {
            what: "starting the shared test cluster".into(),
            detail: e.clone(),
        })
}

/// A fresh database on the shared cluster; panics with the reason (for tests).
pub fn fresh_database(name: &str) -> String {
    match shared().and_then(|c| c.fresh_database(name)) {
        Ok(url) => url,
        Err(e) => panic!("{e}"),
    }
}

/// A PostgreSQL server for tests: one this crate started (stopped and removed on drop) or an
/// existing one named by [`URL_ENV`].
#[derive(Debug)]
pub struct Cluster {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Own(Box<Own>),
    External { base: String },
}

#[derive(Debug)]
struct Own {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    log: PathBuf,
    port: u16,
    as_postgres: bool,
    durable: bool,
    /// With TLS: the server's certificate and key files and the CA that signed the certificate.
    tls: Option<TlsFiles>,
    watchdog: Mutex<Option<Child>>,
    // Last, so that the folder goes after the server stopped.
    _tmp: tempfile::TempDir,
}

impl Cluster {
    /// Starts a new cluster tuned for tests (no fsync: a killed server loses nothing the OS
    /// already has, which is what the fault tests simulate).
    pub fn start() -> Result<Self> {
        Self::start_with(false, false)
    }

    /// Starts a new cluster with PostgreSQL's durable defaults (fsync, synchronous commit), for
    /// benches whose numbers must mean something.
    pub fn start_durable() -> Result<Self> {
        Self::start_with(true, false)
    }

    /// Starts a new cluster that serves TLS (`ssl=on`; plain connections are still accepted,
    /// so that a client that refuses plain text can be tested) with a certificate for
    /// `localhost` and `127.0.0.1` signed by a CA made for this cluster: [`Self::ca_file`].
    pub fn start_tls() -> Result<Self> {
        Self::start_with(false, true)
    }

    /// The PEM file of the CA that signed the TLS certificate ([`Self::start_tls`] only).
    pub fn ca_file(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Own(o) => o.tls.as_ref().map(|t| t.ca.as_path()),
            Kind::External { .. } => None,
        }
    }

    /// The server named by [`URL_ENV`] when set, else a new cluster.
    pub fn from_env_or_start() -> Result<Self> {
        match std::env::var(URL_ENV) {
            Ok(base) if !base.trim().is_empty() => Ok(Self {
                kind: Kind::External {
                    base: base.trim().to_string(),
                },
            }),
            _ => Self::start(),
        }
    }

    fn start_with(durable: bool, tls: bool) -> Result<Self> {
        let bin = find_binaries()?;
        let as_postgres = is_root();
        let tmp = tempfile::Builder::new().prefix("ilot-testpg-").tempdir()?;
        let data = tmp.path().join("data");
        let socket_dir = tmp.path().join("sock");
        std::fs::create_dir(&socket_dir)?;
        let log = tmp.path().join("server.log");
        let tls = if tls {
            Some(TlsFiles::make(tmp.path())?)
        } else {
            None
        };
        if as_postgres {
            run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(tmp.path()),
                "chown of the test cluster folder to postgres",
            )?;
        }
        let own = Own {
            bin,
            data,
            socket_dir,
            log,
            port: 0,
            as_postgres,
            durable,
            tls,
            watchdog: Mutex::new(None),
            _tmp: tmp,
        };
        let mut init = own.command("initdb");
        init.arg("-D").arg(&own.data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ]);
        run(&mut init, "initdb")?;
        let mut own = own;
        // A free port can be taken between the probe and the server's bind: try a few.
        let mut last = None;
        for _ in 0..5 {
            own.port = free_port()?;
            match own.pg_ctl_start() {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
        own.spawn_watchdog()?;
        Ok(Self {
            kind: Kind::Own(Box::new(own)),
        })
    }

    /// The URL of the server's maintenance database (`postgres`).
    pub fn url(&self) -> String {
        match &self.kind {
            Kind::Own(o) => format!("postgres://postgres@127.0.0.1:{}/postgres", o.port),
            Kind::External { base } => base.clone(),
        }
    }

    /// Creates a new, empty database whose name starts with `name` and returns its URL.
    pub fn fresh_database(&self, name: &str) -> Result<String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut db: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        db = format!("{db}_{}_{n}", std::process::id());
        let mut client = postgres::Client::connect(&self.url(), postgres::NoTls)?;
        client.batch_execute(&format!("CREATE DATABASE \"{db}\""))?;
        Ok(with_database(&self.url(), &db))
    }

    /// Kills the server the way a crash would (`pg_ctl stop -m immediate`): no checkpoint,
    /// clients cut; the next start replays the WAL.
    pub fn stop_immediate(&self) -> Result<()> {
        let o = self.own("stop_immediate")?;
        let mut c = o.command("pg_ctl");
        c.arg("-D")
            .arg(&o.data)
            .args(["-m", "immediate", "-w", "stop"]);
        run(&mut c, "pg_ctl stop")
    }

    /// Starts the server again on the same port and data after [`Cluster::stop_immediate`].
    pub fn start_again(&self) -> Result<()> {
        self.own("start_again")?.pg_ctl_start()
    }

    /// The server's log, for test failure messages.
    pub fn log(&self) -> String {
        match &self.kind {
            Kind::Own(o) => std::fs::read_to_string(&o.log).unwrap_or_default(),
            Kind::External { .. } => String::new(),
        }
    }

    fn own(&self, what: &str) -> Result<&Own> {
        match &self.kind {
            Kind::Own(o) => Ok(o),
            Kind::External { .. } => Err(TestPgError::Command {
                what: what.into(),
                detail: format!(
                    "the server comes from {URL_ENV}; unset it to let tests stop and start their own"
                ),
            }),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Kind::Own(o) = &self.kind {
            let mut c = o.command("pg_ctl");
            c.arg("-D")
                .arg(&o.data)
                .args(["-m", "immediate", "-w", "stop"]);
            let _ = c.stdout(Stdio::null()).stderr(Stdio::null()).status();
            if let Some(mut w) = o.watchdog.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = w.kill();
                let _ = w.wait();
            }
        }
    }
}

impl Own {
    /// A server program, run as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn pg_ctl_start(&self) -> Result<()> {
        let mut opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=300",
            self.port,
            self.socket_dir.display()
        );
        if !self.durable {
            // Small WAL bounds: a test cluster never needs PostgreSQL's 1 GB of WAL on disk.
            opts.push_str(
                " -c fsync=off -c full_page_writes=off -c min_wal_size=32MB -c max_wal_size=64MB",
            );
        }
        if let Some(t) = &self.tls {
            opts.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                t.cert.display(),
                t.key.display()
            ));
        }
        let mut c = self.command("pg_ctl");
        c.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-w", "-t", "60", "-o", &opts, "start"]);
        run(&mut c, "pg_ctl start").map_err(|e| match e {
            TestPgError::Command { what, detail } => TestPgError::Command {
                what,
                detail: format!(
                    "{detail}\nserver log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ),
            },
            e => e,
        })
    }

    /// A shell loop that outlives this process by at most a second and then stops the server
    /// and removes its folder.
    fn spawn_watchdog(&self) -> Result<()> {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{} {} -D {} -m immediate -w stop",
            if self.as_postgres {
                "runuser -u postgres --"
            } else {
                ""
            },
            quote(&pg_ctl),
            quote(&self.data)
        );
        let folder = self.data.parent().unwrap_or(&self.data);
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = quote(folder)
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        *self.watchdog.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        Ok(())
    }
}

/// A test CA and the server certificate it signed, as PEM files in the cluster's folder.
#[derive(Debug)]
struct TlsFiles {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl TlsFiles {
    fn make(dir: &Path) -> Result<Self> {
        let err = |e: rcgen::Error| TestPgError::Command {
            what: "making the test certificate".into(),
            detail: e.to_string(),
        };
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Ilot test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(
            ca_params,
            rcgen::KeyPair::generate().map_err(err)?,
        )
        .map_err(err)?;
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(err)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &ca).map_err(err)?;
        let files = Self {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
        };
        std::fs::write(&files.ca, ca.pem())?;
        std::fs::write(&files.cert, cert.pem())?;
        // PostgreSQL refuses a key file others can read.
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&files.key)?;
            f.write_all(key.serialize_pem().as_bytes())?;
        }
        Ok(files)
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

fn run(c: &mut Command, what: &str) -> Result<()> {
    let out = c.stdin(Stdio::null()).output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(TestPgError::Command {
        what: what.into(),
        detail: format!(
            "{}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    })
}

/// The folder holding initdb, pg_ctl and postgres: initdb's on PATH (symlinks resolved, as
/// Debian links only some programs), else the newest /usr/lib/postgresql/*/bin.
fn find_binaries() -> Result<PathBuf> {
    let complete = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| d.join(p).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if let Ok(real) = std::fs::canonicalize(&initdb)
                && let Some(d) = real.parent()
                && complete(d)
            {
                return Ok(d.to_path_buf());
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let d = e.path().join("bin");
            complete(&d).then_some((v, d))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, d)| d).ok_or(TestPgError::NoBinaries)
}

fn is_root() -> bool {
    // Linux: the effective uid is the second number of the Uid line.
    if let Ok(s) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = s.lines().find(|l| l.starts_with("Uid:"))
    {
        return line.split_whitespace().nth(2) == Some("0");
    }
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `url` with its database (path) replaced by `db`, query kept.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let start = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[start..].find('/') {
        Some(i) => &head[..start + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "t1"), "postgresql://h/t1");
    }

    #[test]
    fn a_cluster_starts_serves_survives_a_crash_and_stops() {
        let c = Cluster::start().unwrap();
        let url = c.fresh_database("Smoke Test").unwrap();
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        db.batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
            .unwrap();
        c.stop_immediate().unwrap();
        assert!(db.query_one("SELECT 1", &[]).is_err(), "the server is down");
        c.start_again().unwrap();
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let x: i32 = db.query_one("SELECT x FROM t", &[]).unwrap().get(0);
        assert_eq!(x, 1, "committed rows survive an immediate stop");
        let data = match &c.kind {
            Kind::Own(o) => o.data.clone(),
            Kind::External { .. } => unreachable!(),
        };
        drop(c);
        assert!(!data.exists(), "the folder is removed on drop");
    }
}
