//! `ilot server`: runs the operator server on a database URL (SQLite by default, in the data
//! folder), so that `ilot server` with no flag just works: plain HTTP on loopback only, HTTPS
//! with `--tls-cert/--tls-key` or with a development certificate (`--dev-tls`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ilot_server::{AppState, Config};
use ilot_store::KeyMode;

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8480")]
    pub listen: String,
    /// Address devices reach the server at, written in enrolment links (default: http(s)://LISTEN)
    #[arg(long)]
    pub public_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM)
    #[arg(long, requires = "tls_key", conflicts_with = "dev_tls")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed development certificate for localhost, made once in the
    /// data folder; devices trust it with `ilot enroll … --ca PEM`
    #[arg(long)]
    pub dev_tls: bool,
    /// A proxy (address or network, e.g. 10.0.0.0/8) whose X-Forwarded-For names the client;
    /// repeat for several. Without it the header is ignored and the peer is the client
    #[arg(long = "trusted-proxy", value_name = "ADDRESS|NETWORK")]
    pub trusted_proxy: Vec<String>,
    /// End an operator's session after this many minutes without a request (the absolute
    /// limit stays 12 hours)
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=720))]
    pub session_idle_minutes: u16,
    /// Most connections served at once (more wait to be accepted); keep it under the process's
    /// open-file limit
    #[arg(long, default_value_t = ilot_server::Limits::default().max_connections)]
    pub max_connections: usize,
    /// Seconds a connection may stay open without a request
    #[arg(long, default_value_t = ilot_server::Limits::default().idle.as_secs())]
    pub idle_timeout: u64,
    /// Seconds a client has to finish the TLS handshake and send a request's headers
    #[arg(long, default_value_t = ilot_server::Limits::default().header_read.as_secs())]
    pub header_timeout: u64,
    /// Seconds a request may take, upload included
    #[arg(long, default_value_t = ilot_server::Limits::default().request.as_secs())]
    pub request_timeout: u64,
    /// Enrolment attempts allowed per client address in 10 minutes; raise it when many devices
    /// enrol from one address (a clinic's network behind one NAT, a test run)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub enrol_per_ip: u32,
    /// Answer INSi lookups from the ANS's published test identities (test OIDs only, which can
    /// never label real data): for test benches and demonstrations. Without it a lookup answers
    /// that INSi is not configured (the production connector needs a CPS card or a structure
    /// certificate: ARCHITECTURE.md)
    #[arg(long)]
    pub insi_test_identities: bool,
    /// Offer the login with Pro Santé Connect: the provider's issuer URL (production:
    /// https://auth.esante.gouv.fr/auth/realms/esante-wallet); register
    /// <public URL>/v1/console/psc/callback as the redirect URI with the provider
    #[arg(long, requires_all = ["psc_client_id", "psc_client_secret_file"])]
    pub psc_issuer: Option<String>,
    /// The client id Pro Santé Connect gave this server
    #[arg(long, requires = "psc_issuer")]
    pub psc_client_id: Option<String>,
    /// A file holding the client secret (`-`: read it from ILOT_PSC_CLIENT_SECRET); never
    /// given on the command line, where `ps` would show it
    #[arg(long, requires = "psc_issuer")]
    pub psc_client_secret_file: Option<PathBuf>,
}

impl ServerArgs {
    /// The Pro Santé Connect configuration, when `--psc-issuer` was given.
    fn psc(&self) -> Result<Option<ilot_server::psc::PscConfig>> {
        let (Some(issuer), Some(id), Some(file)) = (
            &self.psc_issuer,
            &self.psc_client_id,
            &self.psc_client_secret_file,
        ) else {
            return Ok(None);
        };
        let secret = if file.as_os_str() == "-" {
            std::env::var("ILOT_PSC_CLIENT_SECRET")
                .context("--psc-client-secret-file -: ILOT_PSC_CLIENT_SECRET is not set")?
        } else {
            std::fs::read_to_string(file).with_context(|| {
                format!("cannot read the PSC client secret from {}", file.display())
            })?
        };
        Ok(Some(ilot_server::psc::PscConfig::new(issuer, id, secret)?))
    }
}

/// `--trusted-proxy` values: networks, or single addresses.
fn trusted_proxies(given: &[String]) -> Result<Vec<ipnet::IpNet>> {
    given
        .iter()
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--trusted-proxy {p:?} is not an address or a network like 10.0.0.0/8"
                    )
                })
        })
        .collect()
}

impl ServerArgs {
    fn limits(&self) -> Result<ilot_server::Limits> {
        let secs = |flag: &str, s: u64| {
            if !(1..=86_400).contains(&s) {
                bail!("--{flag} must be between 1 second and 86400 (a day), not {s}")
            }
            Ok(std::time::Duration::from_secs(s))
        };
        if self.max_connections == 0 {
            bail!("--max-connections must be at least 1");
        }
        Ok(ilot_server::Limits {
            max_connections: self.max_connections,
            idle: secs("idle-timeout", self.idle_timeout)?,
            header_read: secs("header-timeout", self.header_timeout)?,
            request: secs("request-timeout", self.request_timeout)?,
            ..ilot_server::Limits::default()
        })
    }
}

/// The folder beside the server's SQLite file (or the data folder), for the dev certificate.
fn data_folder(url: &str) -> Result<PathBuf> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = std::path::Path::new(rest.strip_prefix("//").unwrap_or(rest));
        if rest != ":memory:"
            && let Some(parent) = path.parent()
        {
            return Ok(if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent.to_path_buf()
            });
        }
    }
    Ok(dirs::data_dir()
        .context("no data folder on this system: give --tls-cert and --tls-key")?
        .join("ilot"))
}

/// The server database URL: `--db` (global) when it is a URL, else `sqlite:` in the data folder.
pub fn db_url(db: Option<PathBuf>) -> Result<String> {
    match db {
        Some(p) => {
            let s = p.to_string_lossy().into_owned();
            if s.starts_with("sqlite:")
                || s.starts_with("postgres://")
                || s.starts_with("postgresql://")
            {
                Ok(s)
            } else {
                bail!(
                    "the server needs a database URL, not {s:?}: give --db sqlite:PATH or --db postgres://user@host/db"
                )
            }
        }
        None => {
            let dir = dirs::data_dir()
                .context("no data folder on this system: give --db sqlite:PATH")?
                .join("ilot");
            private_dir(&dir)?;
            Ok(format!("sqlite:{}", dir.join("server.db").display()))
        }
    }
}

/// Creates `dir` (and its parents) if needed; the folder itself is made `0700`, since it holds
/// the server database, its key file and the development certificate's key.
pub fn private_dir(dir: &std::path::Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// The server's state on the database at `url`, its secrets opened with the server key
/// (`server_key.rs`).
pub fn state(url: &str, public_url: &str, keystore: KeyMode) -> Result<AppState> {
    state_with(url, Config::new(public_url), keystore)
}

fn state_with(url: &str, config: Config, keystore: KeyMode) -> Result<AppState> {
    let storage = crate::server_key::open_storage(url, keystore)?;
    Ok(AppState::new(storage, config)?)
}

pub fn run(db: Option<PathBuf>, keystore: KeyMode, args: &ServerArgs) -> Result<()> {
    let trusted = trusted_proxies(&args.trusted_proxy)?;
    // Whoever started the server may stop reading its output; it keeps serving.
    crate::stdout::keep_running();
    let url = db_url(db)?;
    let limits = args.limits()?;
    let tls = match (&args.tls_cert, &args.tls_key, args.dev_tls) {
        (Some(c), Some(k), _) => Some((c.clone(), k.clone())),
        (_, _, true) => {
            let dev = ilot_server::tls::dev_certificate(&data_folder(&url)?)?;
            println!(
                "development certificate {} ({}), SHA-256 {}\n  devices trust it with: ilot enroll CODE --server URL --ca {}",
                dev.cert.display(),
                if dev.created {
                    "new"
                } else {
                    "kept from an earlier run"
                },
                dev.fingerprint,
                dev.cert.display()
            );
            Some((dev.cert, dev.key))
        }
        _ => None,
    };
    let addr: std::net::SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address like 127.0.0.1:8480",
            args.listen
        )
    })?;
    if tls.is_none() && !addr.ip().is_loopback() {
        bail!(
            "plain http is only served on this machine (127.0.0.1); to listen on {} give --tls-cert and --tls-key (or --dev-tls to try), or put the server behind a TLS proxy",
            args.listen
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{}", args.listen));
    let mut config = Config::new(&public);
    config.trusted_proxies = trusted;
    config.session_idle = chrono::TimeDelta::minutes(i64::from(args.session_idle_minutes));
    config.limits = limits;
    config.enrol_per_ip.attempts = args.enrol_per_ip;
    if args.insi_test_identities {
        config.insi = ilot_server::identity::insi::Connector::test_identities();
    }
    config.psc = args.psc()?;
    let state = state_with(&url, config, keystore)?;
    let config = match &tls {
        Some((c, k)) => Some(ilot_server::tls::server_config(c, k)?),
        None => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!(
            "ilot server listening on {scheme}://{addr} (database {}; server key {})",
            ilot_server::storage::redact_url(&url),
            state.server_public_key().fingerprint()
        );
        match config {
            Some(c) => ilot_server::serve_tls(state, listener.into_std()?, c).await,
            None => ilot_server::serve(state, listener).await,
        }
        .context("the server stopped")
    })
}
