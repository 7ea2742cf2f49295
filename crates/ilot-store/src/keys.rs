//! The database key: 32 random bytes, kept in the OS keyring (Secret Service, Keychain, Credential
//! Manager) or, when no keyring can be reached, in a `<database>.key` file readable by its owner
//! only.
//!
//! A fresh key is made only for a database that does not exist yet: an existing database whose key
//! cannot be found is [`StoreError::KeyMissing`], never silently re-keyed (that would be data
//! loss). Key bytes never reach `Debug`, logs, errors or serde, and are wiped from memory on drop.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ilot_domain::DomainError;
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Result, StoreError};

/// Keyring service name under which every Ilot database key is stored; the user is the database's
/// canonical path.
pub const KEYRING_SERVICE: &str = "ilot";

const KEY_LEN: usize = 32;

/// A SQLCipher key. Wiped from memory when dropped; shows as `DbKey(..)`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DbKey([u8; KEY_LEN]);

impl DbKey {
    /// A new random key from the operating system's CSPRNG (through `rand`'s thread RNG, which is
    /// seeded from it and reseeds itself).
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut k);
        let key = Self(k);
        k.zeroize();
        key
    }

    /// A key from known bytes (tests, benchmarks, a key restored by other means).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub(crate) fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }

    pub(crate) fn from_hex(text: &str) -> Option<Self> {
        let mut k = [0u8; KEY_LEN];
        let ok = hex::decode_to_slice(text.trim(), &mut k).is_ok();
        let key = Self(k);
        k.zeroize();
        ok.then_some(key)
    }

    /// The statement that hands the key to SQLCipher as raw bytes (no key derivation: the key is
    /// already random).
    pub(crate) fn pragma(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", self.to_hex().as_str()))
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(..)")
    }
}

/// Where to look for (and keep) the key. The CLI reads it from `ILOT_KEYSTORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyMode {
    /// The OS keyring, or a key file beside the database when no keyring can be reached.
    #[default]
    Auto,
    /// The OS keyring only; an unreachable keyring is an error.
    Keyring,
    /// The key file only.
    File,
}

impl FromStr for KeyMode {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "keyring" => Ok(Self::Keyring),
            "file" => Ok(Self::File),
            _ => Err(StoreError::Invalid(DomainError::UnknownName {
                what: "key store",
                got: s.to_string(),
                expected: "auto keyring file",
            })),
        }
    }
}

/// Where the key was found or put, for the CLI to tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    Keyring { service: String, user: String },
    File(PathBuf),
}

impl fmt::Display for KeyLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keyring { service, user } => {
                write!(f, "system keyring (service {service:?}, account {user:?})")
            }
            Self::File(p) => write!(f, "key file {}", p.display()),
        }
    }
}

/// The key file of a database: its file name with `.key` appended (`ilot.db` → `ilot.db.key`).
pub fn key_file_path(db_path: &Path) -> PathBuf {
    let mut s = db_path.as_os_str().to_owned();
    s.push(".key");
    PathBuf::from(s)
}

/// Finds the key of the database at `db_path`, or makes one if the database does not exist yet.
pub fn resolve_key(db_path: &Path, mode: KeyMode) -> Result<(DbKey, KeyLocation)> {
    let user = canonical_db_path(db_path)?.to_string_lossy().into_owned();
    let keyring = OsKeyring::new(&user);
    resolve_with(db_path, mode, &keyring, &user)
}

/// What the resolution needs from a keyring, so that tests can stand in an unreachable one.
pub(crate) trait SecretStore {
    fn get(&self) -> std::result::Result<Option<DbKey>, KeyringFailure>;
    fn set(&self, key: &DbKey) -> std::result::Result<(), KeyringFailure>;
    /// Removes the entry; `Ok` when there was none.
    fn delete(&self) -> std::result::Result<(), KeyringFailure>;
}

/// A keyring error: `unreachable` ones (no storage access, platform failure) allow the key-file
/// fallback in [`KeyMode::Auto`]; the others are reported.
#[derive(Debug)]
pub(crate) struct KeyringFailure {
    pub unreachable: bool,
    pub message: String,
}

impl From<keyring::Error> for KeyringFailure {
    fn from(e: keyring::Error) -> Self {
        let unreachable = matches!(
            e,
            keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_)
        );
        // keyring's messages name the failure and the platform error, never the secret (BadEncoding
        // carries bytes in its value but its Display does not print them).
        Self {
            unreachable,
            message: e.to_string(),
        }
    }
}

struct OsKeyring<'a> {
    user: &'a str,
}

impl<'a> OsKeyring<'a> {
    fn new(user: &'a str) -> Self {
        Self { user }
    }

    fn entry(&self) -> std::result::Result<keyring::Entry, KeyringFailure> {
        Ok(keyring::Entry::new(KEYRING_SERVICE, self.user)?)
    }
}

impl SecretStore for OsKeyring<'_> {
    fn get(&self) -> std::result::Result<Option<DbKey>, KeyringFailure> {
        match self.entry()?.get_password() {
            Ok(text) => {
                let text = Zeroizing::new(text);
                DbKey::from_hex(&text).map(Some).ok_or(KeyringFailure {
                    unreachable: false,
                    message: "the stored Ilot key is not 64 hexadecimal digits; it was changed outside Ilot".into(),
                })
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn set(&self, key: &DbKey) -> std::result::Result<(), KeyringFailure> {
        Ok(self.entry()?.set_password(&key.to_hex())?)
    }

    fn delete(&self) -> std::result::Result<(), KeyringFailure> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

pub(crate) fn resolve_with(
    db_path: &Path,
    mode: KeyMode,
    keyring: &dyn SecretStore,
    user: &str,
) -> Result<(DbKey, KeyLocation)> {
    let key_file = key_file_path(db_path);
    let in_keyring = || KeyLocation::Keyring {
        service: KEYRING_SERVICE.to_string(),
        user: user.to_string(),
    };
    let keyring_error = |f: KeyringFailure| StoreError::Keyring(f.message);
    let db_exists = database_exists(db_path)?;

    match mode {
        KeyMode::File => file_key(&key_file, db_exists),
        KeyMode::Keyring => match keyring.get().map_err(keyring_error)? {
            Some(key) => Ok((key, in_keyring())),
            None if db_exists => Err(StoreError::KeyMissing),
            None => {
                let key = DbKey::generate();
                keyring.set(&key).map_err(keyring_error)?;
                Ok((key, in_keyring()))
            }
        },
        KeyMode::Auto => match keyring.get() {
            Ok(Some(key)) => Ok((key, in_keyring())),
            // The keyring works but has no key: an earlier run may have fallen back to the file.
            Ok(None) if key_file_exists(&key_file)? => file_key(&key_file, db_exists),
            Ok(None) if db_exists => Err(StoreError::KeyMissing),
            Ok(None) => {
                let key = DbKey::generate();
                match keyring.set(&key) {
                    Ok(()) => Ok((key, in_keyring())),
                    Err(f) if f.unreachable => {
                        warn_fallback(&f, &key_file);
                        write_key_file(&key_file, &key)?;
                        Ok((key, KeyLocation::File(key_file)))
                    }
                    Err(f) => Err(keyring_error(f)),
                }
            }
            Err(f) if f.unreachable => {
                warn_fallback(&f, &key_file);
                file_key(&key_file, db_exists)
            }
            Err(f) => Err(keyring_error(f)),
        },
    }
}

fn warn_fallback(f: &KeyringFailure, key_file: &Path) {
    tracing::warn!(
        key_file = %key_file.display(),
        "the system keyring is unavailable ({}); the secret is kept in the key file {} instead (readable by you only: keep it safe and back it up with the database)",
        f.message,
        key_file.display()
    );
}

/// The key from the key file, or a new key file for a database that does not exist yet.
fn file_key(key_file: &Path, db_exists: bool) -> Result<(DbKey, KeyLocation)> {
    if key_file_exists(key_file)? {
        let key = read_key_file(key_file)?;
        return Ok((key, KeyLocation::File(key_file.to_path_buf())));
    }
    if db_exists {
        return Err(StoreError::KeyMissing);
    }
    let key = DbKey::generate();
    write_key_file(key_file, &key)?;
    Ok((key, KeyLocation::File(key_file.to_path_buf())))
}

/// A database "exists" once SQLite has written anything for it. A zero-length file holds no data
/// yet, so giving it a fresh key loses nothing.
fn database_exists(db_path: &Path) -> Result<bool> {
    let mut wal = db_path.as_os_str().to_owned();
    wal.push("-wal");
    for p in [db_path, Path::new(&wal)] {
        match fs::metadata(p) {
            Ok(m) if m.len() > 0 => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Io {
                    path: p.to_path_buf(),
                    source: e,
                });
            }
        }
    }
    Ok(false)
}

fn key_file_exists(key_file: &Path) -> Result<bool> {
    match fs::symlink_metadata(key_file) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(key_file_error(key_file, e.to_string())),
    }
}

fn key_file_error(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::KeyFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn read_key_file(path: &Path) -> Result<DbKey> {
    let meta = fs::metadata(path).map_err(|e| key_file_error(path, e.to_string()))?;
    check_private(path, &meta)?;
    let text =
        Zeroizing::new(fs::read_to_string(path).map_err(|e| key_file_error(path, e.to_string()))?);
    DbKey::from_hex(&text).ok_or_else(|| {
        key_file_error(
            path,
            "it does not hold a key (64 hexadecimal digits); restore the key file from a backup",
        )
    })
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(key_file_error(
            path,
            format!(
                "its permissions {mode:04o} let other users read the key, so it is refused; if this is your key file, run `chmod 600 {}` and check who may have copied it",
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<()> {
    // Elsewhere the file inherits the ACL of the user's profile directory.
    Ok(())
}

/// Writes the key so that a crash never leaves a half-written key file under the real name: a
/// private temporary file is filled and synced, then hard-linked to the final name, which fails
/// rather than replace an existing key.
fn write_key_file(path: &Path, key: &DbKey) -> Result<()> {
    let err = |e: io::Error| key_file_error(path, format!("cannot be written: {e}"));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // A leftover temporary file never became a key (the link is the commit point).
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut file = private_create_new(&tmp).map_err(err)?;
    let written = file
        .write_all(format!("{}\n", key.to_hex().as_str()).as_bytes())
        .and_then(|()| file.sync_all());
    drop(file);
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    linked.map_err(err)?;
    sync_parent(path);
    Ok(())
}

#[cfg(unix)]
fn private_create_new(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Makes the new directory entry durable; best effort, as some platforms cannot open directories.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// Where the secret `name` of the database at `db_path` is kept when no keyring can be reached:
/// `<database>.<name>.key` (`ilot.db` → `ilot.db.device.key`), owner-only like the key file.
pub fn secret_file_path(db_path: &Path, name: &str) -> PathBuf {
    let mut s = db_path.as_os_str().to_owned();
    s.push(format!(".{name}.key"));
    PathBuf::from(s)
}

/// Keeps another 32-byte secret of a database (the sync engine's device secret) where its key
/// would be: the OS keyring under [`KEYRING_SERVICE`], account `<canonical path>#<name>`, or with
/// [`KeyMode::Auto`] and no reachable keyring a `0600` file ([`secret_file_path`]), with the
/// same warning as for the key. Replaces an earlier secret of that name.
pub fn put_secret(
    db_path: &Path,
    name: &str,
    mode: KeyMode,
    secret: &Zeroizing<[u8; KEY_LEN]>,
) -> Result<KeyLocation> {
    let user = secret_user(db_path, name)?;
    put_secret_with(db_path, name, mode, &OsKeyring::new(&user), &user, secret)
}

/// The secret `name` of a database, found as [`put_secret`] keeps it; `None` when it was never
/// kept. In [`KeyMode::Auto`] the keyring is asked first, then the file.
pub fn get_secret(
    db_path: &Path,
    name: &str,
    mode: KeyMode,
) -> Result<Option<(Zeroizing<[u8; KEY_LEN]>, KeyLocation)>> {
    let user = secret_user(db_path, name)?;
    get_secret_with(db_path, name, mode, &OsKeyring::new(&user), &user)
}

/// Forgets the secret `name` of a database wherever [`put_secret`] may have kept it (keyring
/// entry and fallback file), e.g. when the patient deletes the local data. Nothing kept is fine;
/// with [`KeyMode::Auto`] an unreachable keyring is fine too (nothing can be there).
pub fn delete_secret(db_path: &Path, name: &str, mode: KeyMode) -> Result<()> {
    let user = secret_user(db_path, name)?;
    delete_secret_with(db_path, name, mode, &OsKeyring::new(&user))
}

pub(crate) fn delete_secret_with(
    db_path: &Path,
    name: &str,
    mode: KeyMode,
    keyring: &dyn SecretStore,
) -> Result<()> {
    if mode != KeyMode::File {
        match keyring.delete() {
            Ok(()) => {}
            Err(f) if f.unreachable && mode == KeyMode::Auto => {}
            Err(f) => return Err(StoreError::Keyring(f.message)),
        }
    }
    let file = secret_file_path(db_path, name);
    match fs::remove_file(&file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(key_file_error(&file, e.to_string())),
    }
}

fn secret_user(db_path: &Path, name: &str) -> Result<String> {
    Ok(format!(
        "{}#{name}",
        canonical_db_path(db_path)?.to_string_lossy()
    ))
}

pub(crate) fn put_secret_with(
    db_path: &Path,
    name: &str,
    mode: KeyMode,
    keyring: &dyn SecretStore,
    user: &str,
    secret: &Zeroizing<[u8; KEY_LEN]>,
) -> Result<KeyLocation> {
    let file = secret_file_path(db_path, name);
    let as_key = DbKey::from_bytes(**secret);
    let keyring_error = |f: KeyringFailure| StoreError::Keyring(f.message);
    let to_file = || -> Result<KeyLocation> {
        // A secret left by an enrolment that did not finish is replaced, never kept beside.
        match fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(key_file_error(&file, e.to_string())),
        }
        write_key_file(&file, &as_key)?;
        Ok(KeyLocation::File(file.clone()))
    };
    let in_keyring = || KeyLocation::Keyring {
        service: KEYRING_SERVICE.to_string(),
        user: user.to_string(),
    };
    match mode {
        KeyMode::File => to_file(),
        KeyMode::Keyring => {
            keyring.set(&as_key).map_err(keyring_error)?;
            Ok(in_keyring())
        }
        KeyMode::Auto => match keyring.set(&as_key) {
            Ok(()) => Ok(in_keyring()),
            Err(f) if f.unreachable => {
                warn_fallback(&f, &file);
                to_file()
            }
            Err(f) => Err(keyring_error(f)),
        },
    }
}

pub(crate) fn get_secret_with(
    db_path: &Path,
    name: &str,
    mode: KeyMode,
    keyring: &dyn SecretStore,
    user: &str,
) -> Result<Option<(Zeroizing<[u8; KEY_LEN]>, KeyLocation)>> {
    let file = secret_file_path(db_path, name);
    let keyring_error = |f: KeyringFailure| StoreError::Keyring(f.message);
    let bytes = |k: DbKey| Zeroizing::new(k.0);
    let from_file = || -> Result<Option<(Zeroizing<[u8; KEY_LEN]>, KeyLocation)>> {
        if !key_file_exists(&file)? {
            return Ok(None);
        }
        Ok(Some((
            bytes(read_key_file(&file)?),
            KeyLocation::File(file.clone()),
        )))
    };
    let in_keyring = || KeyLocation::Keyring {
        service: KEYRING_SERVICE.to_string(),
        user: user.to_string(),
    };
    match mode {
        KeyMode::File => from_file(),
        KeyMode::Keyring => Ok(keyring
            .get()
            .map_err(keyring_error)?
            .map(|k| (bytes(k), in_keyring()))),
        KeyMode::Auto => match keyring.get() {
            Ok(Some(k)) => Ok(Some((bytes(k), in_keyring()))),
            Ok(None) => from_file(),
            Err(f) if f.unreachable => {
                warn_fallback(&f, &file);
                from_file()
            }
            Err(f) => Err(keyring_error(f)),
        },
    }
}

/// The path the keyring entry is named after: absolute and free of symlinks, so that two spellings
/// of one database find one key. The file itself may not exist yet; its directory must.
pub fn canonical_db_path(db_path: &Path) -> Result<PathBuf> {
    let io_err = |e| StoreError::Io {
        path: db_path.to_path_buf(),
        source: e,
    };
    if db_path.exists() {
        return fs::canonicalize(db_path).map_err(io_err);
    }
    let name = db_path.file_name().ok_or_else(|| {
        io_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a database path must name a file",
        ))
    })?;
    let parent = match db_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(fs::canonicalize(&parent).map_err(io_err)?.join(name))
}

#[cfg(test)]
mod tests;
