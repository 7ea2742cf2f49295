//! Why the store could not do what was asked. Every message tells the person what to do next and
//! never contains key material.

use std::path::PathBuf;

use ilot_domain::DomainError;
use thiserror::Error;

use crate::EntryId;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "this database cannot be opened with the key found for it (was the keyring reset, or is this another patient's file?); the file was left untouched"
    )]
    WrongKey,
    #[error(
        "this database exists but its key was found neither in the system keyring nor in the key file beside it (<database>.key); without its key the data cannot be read: restore the key from a backup, a fresh key is never made for an existing database"
    )]
    KeyMissing,
    #[error(
        "this file is not an Ilot database, or it is damaged: check the path (an Ilot database is an encrypted file, never a plain SQLite file)"
    )]
    NotADatabase,
    #[error("system keyring: {0}")]
    Keyring(String),
    #[error("key file {}: {reason}", path.display())]
    KeyFile { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("no entry with id {0}")]
    NotFound(EntryId),
    #[error("entry {0} was deleted; a deleted entry is kept as it was and cannot be changed")]
    Deleted(EntryId),
    #[error(
        "a correction must keep the entry's source (device, record number or import origin); delete the entry and add a new one instead"
    )]
    SourceMismatch,
    #[error(
        "a correction must keep the kind of entry ({was}, not {now}); delete the entry and add a new one instead"
    )]
    KindMismatch {
        was: &'static str,
        now: &'static str,
    },
    #[error("the entry time {0} is outside 1900-2200; check the device clock or the imported file")]
    TimeOutOfRange(String),
    #[error(
        "this database already holds {max} entry sources (devices, import origins), the most it can; \
         the new source was not added: group imports under fewer origin names",
        max = crate::ids::MAX_SOURCE_ID
    )]
    TooManySources,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("stored data could not be read back ({0}); the database may be damaged")]
    Codec(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
