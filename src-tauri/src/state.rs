//! The app's state: the patient's encrypted store in the OS app-data folder (or `ILOT_DB`), the
//! app's preferences beside it, whether the PIN lock is open, and the sync loop's runner.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono_tz::Tz;
use ilot_domain::GlucoseUnit;
use ilot_store::{AlertMark, KeyMode, Store};

use crate::error::{Error, Result};
use crate::settings::{self, Settings};
use crate::sync::{self as sync_loop, Runner};

#[derive(Debug)]
pub struct AppState {
    store: Mutex<Store>,
    settings: Mutex<Settings>,
    pub db_path: PathBuf,
    pub settings_path: PathBuf,
    unlocked: AtomicBool,
    key_mode: KeyMode,
    /// `ILOT_DEMO=1`: demo data was (or may be) seeded; the UI says so.
    pub demo: bool,
    /// Enrolment and the sync loop (their own store connection).
    pub sync: Runner,
}

impl AppState {
    /// Opens (or creates) `ilot.db` in `dir`; `ILOT_DB` overrides the path (demo and tests),
    /// `ILOT_KEYSTORE` the key store (`auto`, `keyring`, `file`).
    pub fn open(dir: &Path) -> Result<Self> {
        let db_path =
            std::env::var_os("ILOT_DB").map_or_else(|| dir.join("ilot.db"), PathBuf::from);
        let demo = std::env::var("ILOT_DEMO").is_ok_and(|v| v == "1");
        Self::open_at(db_path, key_mode(), demo)
    }

    /// Opens the store at `db_path` with its key from `mode`, and the settings beside it.
    pub fn open_at(db_path: PathBuf, mode: KeyMode, demo: bool) -> Result<Self> {
        let mut store = open_store(&db_path, mode)?;
        let settings_path = settings::path_for(&db_path);
        let mut settings = Settings::load(&settings_path)?;
        migrate_consent(&mut store, &mut settings, &settings_path)?;
        migrate_alert_marks(&mut store, &mut settings, &settings_path)?;
        // No PIN yet (first start, or onboarding not finished): nothing to unlock.
        let unlocked = settings.pin_hash.is_none();
        Ok(Self {
            sync: Runner::new(db_path.clone(), mode, Box::new(sync_loop::http)),
            store: Mutex::new(store),
            settings: Mutex::new(settings),
            db_path,
            settings_path,
            unlocked: AtomicBool::new(unlocked),
            key_mode: mode,
            demo,
        })
    }

    pub fn require_unlocked(&self) -> Result<()> {
        if self.is_unlocked() {
            Ok(())
        } else {
            Err(Error::Locked)
        }
    }

    /// The store, once the PIN lock is open.
    pub fn store(&self) -> Result<MutexGuard<'_, Store>> {
        self.require_unlocked()?;
        self.store_unchecked()
    }

    /// The store whatever the lock (startup seeding, deleting the local data).
    pub fn store_unchecked(&self) -> Result<MutexGuard<'_, Store>> {
        // A panic while holding the lock leaves the store itself consistent (every write is one
        // transaction), so the poisoned guard is safe to reuse.
        Ok(self.store.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `change` to the settings and writes them.
    pub fn update_settings<T>(&self, change: impl FnOnce(&mut Settings) -> T) -> Result<T> {
        let mut s = self.settings();
        let out = change(&mut s);
        s.save(&self.settings_path)?;
        Ok(out)
    }

    /// The keys of the alerts with this mark (kept in the encrypted store; readable while
    /// locked, for the notifications, which carry no value).
    pub fn alert_marks(&self, mark: AlertMark) -> Result<BTreeSet<String>> {
        Ok(self.store_unchecked()?.alert_marks(mark)?)
    }

    /// Marks these alerts "done" or "notified".
    pub fn mark_alerts<'a>(
        &self,
        mark: AlertMark,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        Ok(self.store_unchecked()?.add_alert_marks(mark, keys)?)
    }

    pub fn is_unlocked(&self) -> bool {
        self.unlocked.load(Ordering::SeqCst)
    }

    pub fn set_unlocked(&self, open: bool) {
        self.unlocked.store(open, Ordering::SeqCst);
    }

    /// Replaces the store with a new empty database at the same path: the old file, its WAL and
    /// key file, the device secret (keyring entry or file) and the settings are deleted, with the
    /// sync loop stopped meanwhile. The database key's keyring entry (if any) is left to the
    /// store's key resolution, which reuses it for the new, empty file.
    pub fn reset(&self) -> Result<()> {
        self.sync.while_stopped(|| self.reset_files())
    }

    fn reset_files(&self) -> Result<()> {
        let mut store = self.store_unchecked()?;
        // Closes the old connection before its files are removed.
        *store = Store::open_in_memory()?;
        let mut files = vec![
            self.db_path.clone(),
            with_suffix(&self.db_path, "-wal"),
            with_suffix(&self.db_path, "-shm"),
            ilot_store::key_file_path(&self.db_path),
            self.settings_path.clone(),
        ];
        files.dedup();
        for f in files {
            match std::fs::remove_file(&f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::Io(format!("{}: {e}", f.display()))),
            }
        }
        ilot_sync::forget_device_secret(&self.db_path, self.key_mode)?;
        *store = open_store(&self.db_path, self.key_mode)?;
        *self.settings() = Settings::default();
        self.set_unlocked(true);
        Ok(())
    }
}

/// Moves a consent kept by an older version in the settings file into the store's sync state,
/// where the sync engine reads it; a decision already in the store wins (it is newer or equal).
fn migrate_consent(store: &mut Store, settings: &mut Settings, path: &Path) -> Result<()> {
    let Some(old) = settings.legacy_consent.take() else {
        return Ok(());
    };
    if ilot_sync::SyncState::consent(store)?.is_none() {
        ilot_sync::SyncState::set_consent(store, &old.to_sync())?;
    }
    settings.save(path)
}

/// Moves the alert keys an older version kept in the settings file into the encrypted store
/// (one transaction per mark), then rewrites the file without them.
fn migrate_alert_marks(store: &mut Store, settings: &mut Settings, path: &Path) -> Result<()> {
    if settings.legacy_acknowledged.is_empty() && settings.legacy_notified.is_empty() {
        return Ok(());
    }
    let done = std::mem::take(&mut settings.legacy_acknowledged);
    let notified = std::mem::take(&mut settings.legacy_notified);
    store.add_alert_marks(AlertMark::Done, done.iter().map(String::as_str))?;
    store.add_alert_marks(AlertMark::Notified, notified.iter().map(String::as_str))?;
    settings.save(path)
}

/// `ILOT_KEYSTORE`: `auto` (the desktop's default), `keyring` or `file`.
fn key_mode() -> KeyMode {
    std::env::var("ILOT_KEYSTORE")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(DEFAULT_KEY_MODE)
}

/// Desktops: the OS keyring, else a `0600` key file beside the database.
#[cfg(desktop)]
const DEFAULT_KEY_MODE: KeyMode = KeyMode::Auto;
/// Android and iOS: the key file in the app's private data folder, said explicitly, because
/// `keyring` 3 has no Android backend and would quietly keep the key in its in-memory mock
/// (lost at the next start); docs/mobile.md has the Keystore/Keychain path.
#[cfg(mobile)]
const DEFAULT_KEY_MODE: KeyMode = KeyMode::File;

fn open_store(db_path: &Path, mode: KeyMode) -> Result<Store> {
    ilot_store::open_with_key(db_path, mode).map_err(|e| match e {
        ilot_store::StoreError::Io { path, source } => {
            Error::DataDir(format!("{}: {source}", path.display()))
        }
        e => e.into(),
    })
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Time zone and display unit from the profile.
pub fn tz_and_unit(store: &Store) -> Result<(Tz, GlucoseUnit)> {
    let p = store.profile_or_default()?;
    Ok((p.tz, p.preferred_unit))
}
