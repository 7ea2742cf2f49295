//! `ilot server`: runs the operator server on a database URL (SQLite by default, in the data
//! folder), so that `ilot server` with no flag just works.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ilot_server::{AppState, Config};

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8480")]
    pub listen: String,
    /// Address devices reach the server at, written in enrolment links (default: http://LISTEN)
    #[arg(long)]
    pub public_url: Option<String>,
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
    let storage = ilot_server::storage::open(url).with_context(|| {
        format!(
            "cannot open the server database {}",
            ilot_server::storage::redact_url(url)
        )
    })?;
    Ok(AppState::new(storage, Config::new(public_url))?)
}

pub fn run(db: Option<PathBuf>, args: &ServerArgs) -> Result<()> {
    let url = db_url(db)?;
    let public = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let state = state(&url, &public)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!(
            "ilot server listening on http://{addr} (database {}; server key {})",
            ilot_server::storage::redact_url(&url),
            state.server_public_key().fingerprint()
        );
        ilot_server::serve(state, listener)
            .await
            .context("the server stopped")
    })
}
