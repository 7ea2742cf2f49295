//! Where `ilot server` and `ilot operator` find the server key that seals the server database's
//! secrets (`ilot_server::atrest`), in this order:
//!
//! 1. `ILOT_SERVER_KEY` (64 hex digits or base64 of 32 bytes): containers, and PostgreSQL
//!    deployments whose nodes must all share one key. Never written anywhere by Ilot.
//! 2. The OS keyring or a `0600` key file, as the device keeps its own key
//!    (`ilot_store::get_secret`, secret name `server-key`): for `sqlite:PATH` beside the database
//!    (`PATH.server-key.key`), for PostgreSQL in the data folder, named after host, port and
//!    database (`<data>/ilot/postgres-HOST-PORT-DB.server-key.key`).
//! 3. None found: a new key is made and kept there *before* the database is opened, so a crash
//!    cannot leave secrets sealed with a key that was never saved. If the database turns out to
//!    be sealed already (its key was lost or is elsewhere), the new key is forgotten again and
//!    the error says so: a server never silently takes a new identity.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ilot_server::atrest::{KEY_ENV, ServerKey};
use ilot_server::storage::Storage;
use ilot_store::KeyMode;
use zeroize::Zeroizing;

const SECRET_NAME: &str = "server-key";

/// Opens the storage at `url` with its server key, made on first use.
pub fn open_storage(url: &str, mode: KeyMode) -> Result<Box<dyn Storage>> {
    let shown = ilot_server::storage::redact_url(url);
    let cannot_open = || format!("cannot open the server database {shown}");
    if let Ok(text) = std::env::var(KEY_ENV) {
        let key = ServerKey::parse(&text)?;
        return ilot_server::storage::open(url, &key).with_context(cannot_open);
    }
    let Some(anchor) = anchor(url)? else {
        // An in-memory database lives as long as the process: any key will do.
        return ilot_server::storage::open(url, &ServerKey::generate()).with_context(cannot_open);
    };
    let found = ilot_store::get_secret(&anchor, SECRET_NAME, mode)
        .with_context(|| format!("cannot read the server key of {shown}"))?;
    let (bytes, location, fresh) = match found {
        Some((bytes, location)) => (bytes, location, false),
        None => {
            let mut k = Zeroizing::new([0u8; 32]);
            rand::RngCore::fill_bytes(&mut rand::rng(), k.as_mut());
            let location = ilot_store::put_secret(&anchor, SECRET_NAME, mode, &k)
                .with_context(|| format!("cannot keep a new server key for {shown}"))?;
            (k, location, true)
        }
    };
    let key = ServerKey::from_bytes(&bytes);
    match ilot_server::storage::open(url, &key) {
        Ok(s) => {
            if fresh {
                eprintln!(
                    "ilot: a new server key seals this database's secrets; it is kept in the {location}: back it up with the database (without it the database's secrets cannot be opened)"
                );
            }
            Ok(s)
        }
        Err(ilot_server::ServerError::Key(why)) if fresh => {
            // The key just made is of no use to this database: do not leave it to be found.
            let _ = ilot_store::delete_secret(&anchor, SECRET_NAME, mode);
            bail!(
                "no server key was found for {shown} (looked in the {location} and {KEY_ENV}), and the database's secrets are sealed with one ({why}): restore its key there or give it in {KEY_ENV}"
            )
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "{} (server key from the {location})",
            cannot_open()
        ))),
    }
}

/// The file the key is kept beside (or named after, in the keyring); `None` for a database in
/// memory.
fn anchor(url: &str) -> Result<Option<PathBuf>> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        return Ok((path != ":memory:").then(|| PathBuf::from(path)));
    }
    let dir = dirs::data_dir()
        .context(format!(
            "no data folder on this system to keep the server key: set {KEY_ENV}"
        ))?
        .join("ilot");
    crate::server::private_dir(&dir)?;
    Ok(Some(dir.join(postgres_name(url))))
}

/// `postgres-HOST-PORT-DB` from a PostgreSQL URL, with anything but letters, digits, dots and
/// dashes replaced, so that each database has its own key file and keyring entry.
fn postgres_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split('?').next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let clean: String = rest
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("postgres-{clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_keys_are_named_after_the_database_never_the_password() {
        assert_eq!(
            postgres_name("postgres://ilot:s3/cr@t@db.example:5432/ilot?sslmode=verify-full"),
            "postgres-db.example-5432-ilot"
        );
    }
}
