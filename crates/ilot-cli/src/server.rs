//! `ilot server`: runs the operator server on a database URL (SQLite by default, in the data
//! folder), so that `ilot server` with no flag just works: plain HTTP on loopback only, HTTPS
//! with `--tls-cert/--tls-key` or with a development certificate (`--dev-tls`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ilot_server::{AppState, Config};

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
    /// Enrolment attempts allowed per client address in 10 minutes; raise it when many devices
    /// enrol from one address (a clinic's network behind one NAT, a test run)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub enrol_per_ip: u32,
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
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Ok(format!("sqlite:{}", dir.join("server.db").display()))
        }
    }
}

pub fn state(url: &str, public_url: &str) -> Result<AppState> {
    state_with(url, Config::new(public_url))
}

fn state_with(url: &str, config: Config) -> Result<AppState> {
    let storage = ilot_server::storage::open(url).with_context(|| {
        format!(
            "cannot open the server database {}",
            ilot_server::storage::redact_url(url)
        )
    })?;
    Ok(AppState::new(storage, config)?)
}

pub fn run(db: Option<PathBuf>, args: &ServerArgs) -> Result<()> {
    let url = db_url(db)?;
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
    let mut config = Config::new(public);
    config.enrol_per_ip.attempts = args.enrol_per_ip;
    let state = state_with(&url, config)?;
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
