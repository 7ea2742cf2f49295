//! What keeps a copied `server.db` from giving away secrets: the file (and its `-wal`, `-shm`)
//! readable by its owner only from the first byte, and the secrets sealed with the server key
//! (`crate::atrest`), with values written before V5 sealed in the transaction that opens the
//! database.

use std::path::Path;

use rusqlite::{OptionalExtension, Transaction, params};

use crate::atrest::{Sealed, ServerKey};
use crate::error::{Result, ServerError};

/// Creates the database file `0600` before SQLite writes anything (SQLite gives its `-wal` and
/// `-shm` files the database file's mode), and takes group and other rights away from files an
/// earlier version created world-readable.
pub(super) fn prepare_file(path: &Path) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| {
        ServerError::Storage(format!("cannot protect {}: {e}", p.display()))
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| io(path, e))?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            match std::fs::metadata(&p) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| io(&p, e))?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&p, e)),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, io);
    Ok(())
}

/// Checks the server key against the database, or — on a database that has no check value
/// yet (new, or from before V5) — seals every secret still in clear and records the key's
/// check value. Runs in the caller's (migration) transaction: all sealed, or nothing.
/// Returns whether clear values were sealed.
pub(super) fn check_or_seal(tx: &Transaction<'_>, key: &ServerKey) -> Result<bool> {
    let check: Option<Vec<u8>> = tx
        .query_row("SELECT key_check FROM at_rest WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(check) = check {
        return if key.checks(&check) {
            Ok(false)
        } else {
            Err(ServerKey::wrong_key())
        };
    }
    let mut sealed_any = false;
    let secret: Option<Vec<u8>> = tx
        .query_row("SELECT secret FROM server_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(secret) = secret {
        let secret = zeroize::Zeroizing::new(secret);
        tx.execute(
            "UPDATE server_key SET secret = ?1 WHERE id = 1",
            [key.seal(Sealed::ServerSecret, &secret)?],
        )?;
        sealed_any = true;
    }
    let totps = {
        let mut stmt =
            tx.prepare("SELECT id, totp_secret FROM operators WHERE totp_secret IS NOT NULL")?;
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for (id, secret) in totps {
        let secret = zeroize::Zeroizing::new(secret);
        tx.execute(
            "UPDATE operators SET totp_secret = ?1 WHERE id = ?2",
            params![key.seal(Sealed::Totp { operator_id: id }, &secret)?, id],
        )?;
        sealed_any = true;
    }
    let codes = {
        let mut stmt = tx.prepare("SELECT code FROM enrolment_codes")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for code in codes {
        tx.execute(
            "UPDATE enrolment_codes SET code = ?1 WHERE code = ?2",
            params![key.code_hash(&code), code],
        )?;
        sealed_any = true;
    }
    tx.execute(
        "INSERT INTO at_rest (id, key_check) VALUES (1, ?1)",
        [key.check_value().as_slice()],
    )?;
    Ok(sealed_any)
}
