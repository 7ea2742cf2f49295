//! Ilot's local store: one SQLCipher-encrypted SQLite file per patient holding the diary entries
//! (with every earlier version kept), the patient profile, the prescription versions and the
//! outbox the sync engine will drain.
//!
//! Opening checks the key by reading the schema before anything is written, so a wrong key leaves
//! the file untouched. Every write is one transaction and is acknowledged only once committed
//! (WAL, `synchronous = FULL`). Entries are never overwritten or erased: a correction or a deletion
//! is a new version, and the previous one moves to `entry_history` (enforced by triggers).
//! Re-importing or re-downloading the same data adds nothing: the entry id is the dedup key
//! (source, kind and device record number or import second, see `ids.rs`), so a reading costs one
//! B-tree insert, and the new entries of a transaction share one outbox row and one time-range
//! row per (source, kind) (`batches`), which the time queries read instead of a time index.
//!
//! This crate must not evaluate clinical rules (that is `ilot-rules`, fed by the read queries
//! here), talk to the network, or let key material reach logs, errors or `Debug`.

mod app_state;
mod codes;
mod devices;
mod error;
pub mod export;
mod gather;
mod ids;
pub mod keys;
mod outbox;
mod read;
mod schema;
mod settings;
mod sync_state;
mod write;
mod writer;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use rusqlite_migration::SchemaVersion;

pub use app_state::{AlertMark, UnlockAttempts};
pub use error::{Result, StoreError};
pub use gather::{LOCAL_PSEUDONYM, open_with_key};
pub use keys::{
    DbKey, KeyLocation, KeyMode, delete_secret, get_secret, key_file_path, put_secret, resolve_key,
    secret_file_path,
};
pub use outbox::{OutboxItem, OutboxOp, OutboxTarget};
pub use sync_state::SavedBatch;

/// Local id of an entry; the rules see it as [`ilot_rules::EntryRef`].
pub type EntryId = i64;

/// One version of an entry as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredEntry {
    pub id: EntryId,
    pub version: u32,
    /// This version is the deletion tombstone; `entry` is the content that was deleted.
    pub deleted: bool,
    pub recorded_at: DateTime<Utc>,
    pub entry: ilot_domain::Entry,
    /// Why this version was made (corrections and deletions), as the person gave it.
    pub reason: Option<String>,
}

/// What [`Store::add`] did with one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added(EntryId),
    /// The same device record (or import row) is already stored with the same content.
    Duplicate(EntryId),
    /// The same device record (or import row) is stored with a different content; nothing was
    /// overwritten, the existing entry stays as it is.
    Conflict {
        existing: EntryId,
    },
}

/// What [`Store::add_batch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub added: usize,
    pub duplicates: usize,
    /// (index in the input, existing entry) for each entry that was not stored.
    pub conflicts: Vec<(usize, EntryId)>,
    /// Per input index: the new or already-stored entry id; `None` for a conflict.
    pub ids: Vec<Option<EntryId>>,
}

/// An open store. `Debug` shows the path only.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    /// Where secrets beside the database (the device secret) are kept; see [`put_secret`].
    secret_mode: KeyMode,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// How long a write waits for another connection's transaction before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache per connection (KiB, as SQLite's negative `cache_size`): holds a large batch's
/// working pages; 128 MiB measured no faster on the year-of-CGM benchmark. SQLCipher's own
/// settings (4 KiB pages, HMAC-SHA512) stay at their defaults, so a file opens with the stock
/// `sqlcipher` tool and the key; 16/64 KiB pages did not change the benchmark ratio.
const CACHE_KIB: i64 = 16 * 1024;
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl Store {
    /// Opens (or creates) the encrypted database at `path` with `key`, then brings its schema up
    /// to date.
    pub fn open(path: &Path, key: &DbKey) -> Result<Store> {
        check_looks_encrypted(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // SQLCipher would print "hmac check failed" to stderr for a wrong key; the error returned
        // here says it better. (Process-wide; SQLCipher's log has nothing else for the user.)
        conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))?;
        conn.execute_batch(&key.pragma())?;
        // Reading the schema decrypts page 1: the only safe moment to find a wrong key, before
        // WAL mode or a migration writes anything.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(_) => {}
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
                return Err(StoreError::WrongKey);
            }
            Err(e) => return Err(e.into()),
        }
        Self::setup(conn, Some(path.to_path_buf()))
    }

    /// A store in memory with the same schema and migrations (tests, previews). Not encrypted:
    /// nothing reaches a disk.
    pub fn open_in_memory() -> Result<Store> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Store> {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if path.is_some() && !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Migration(format!(
                "the database refused write-ahead logging (journal mode {mode}); is it on a network share?"
            )));
        }
        // FULL: a commit is on disk before `add` returns, so an acknowledged reading survives a
        // power cut (NORMAL in WAL mode may lose the last commits). Its cost is one fsync per
        // transaction, which batch ingestion amortises.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(32);
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            path,
            secret_mode: KeyMode::Auto,
        })
    }

    /// The file this store lives in; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Where secrets kept beside this database go ([`put_secret`]): the mode its key was
    /// resolved with, so that `ILOT_KEYSTORE=file` keeps everything in files. `Auto` by default.
    pub fn set_secret_mode(&mut self, mode: KeyMode) {
        self.secret_mode = mode;
    }

    pub fn secret_mode(&self) -> KeyMode {
        self.secret_mode
    }
}

#[cfg(any(test, feature = "vm-steps"))]
impl Store {
    /// Runs `f` on this store and counts the SQLite virtual-machine instructions it executed: a
    /// measure of a query's work that, unlike a timing, is the same on every run, so a test can
    /// say "this does not read the whole store". Tests and benches only (feature `vm-steps`).
    pub fn count_vm_steps<R>(&self, f: impl FnOnce(&Store) -> R) -> Result<(R, u64)> {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};
        let steps = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&steps);
        self.conn.progress_handler(
            1,
            Some(move || {
                counter.fetch_add(1, Ordering::Relaxed);
                false
            }),
        )?;
        let out = f(self);
        self.conn.progress_handler(0, None::<fn() -> bool>)?;
        Ok((out, steps.load(Ordering::Relaxed)))
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let migrations = &schema::MIGRATIONS;
    let err = |e: rusqlite_migration::Error| StoreError::Migration(e.to_string());
    if let SchemaVersion::Outside(v) = migrations.current_version(conn).map_err(err)? {
        return Err(StoreError::Migration(format!(
            "this database has schema version {v}, written by a newer Ilot; update Ilot to open it"
        )));
    }
    migrations.to_latest(conn).map_err(err)
}

/// Refuses, without touching it, a file that cannot be an Ilot database: a plain SQLite file (the
/// key would not fit it and it holds unencrypted health data) or a file that is not a whole number
/// of pages. An empty or absent file is a new database.
fn check_looks_encrypted(path: &Path) -> Result<()> {
    let io = |e| StoreError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(());
    }
    // 512 bytes is SQLite's smallest page; every page size is a multiple of it.
    if len % 512 != 0 {
        return Err(StoreError::NotADatabase);
    }
    let mut head = [0u8; 16];
    file.read_exact(&mut head).map_err(io)?;
    if &head == SQLITE_HEADER {
        return Err(StoreError::NotADatabase);
    }
    Ok(())
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn utc_from_ms(at_ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(at_ms)
        .ok_or_else(|| StoreError::Codec(format!("invalid time {at_ms} ms")))
}

#[cfg(test)]
mod tests;
