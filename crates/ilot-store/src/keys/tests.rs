//! Key resolution against a stand-in keyring, so that the fallback paths run everywhere (the real
//! keyring is exercised by the integration test behind `ILOT_KEYRING_TEST=1`).

use std::cell::RefCell;

use super::*;

/// A keyring that is reachable (holding at most one key) or unreachable.
struct FakeKeyring {
    reachable: bool,
    stored: RefCell<Option<[u8; KEY_LEN]>>,
}

impl FakeKeyring {
    fn working() -> Self {
        Self {
            reachable: true,
            stored: RefCell::new(None),
        }
    }

    fn unreachable() -> Self {
        Self {
            reachable: false,
            stored: RefCell::new(None),
        }
    }

    fn failure(&self) -> KeyringFailure {
        KeyringFailure {
            unreachable: true,
            message: "no Secret Service on the session bus".into(),
        }
    }
}

impl SecretStore for FakeKeyring {
    fn get(&self) -> std::result::Result<Option<DbKey>, KeyringFailure> {
        if !self.reachable {
            return Err(self.failure());
        }
        Ok(self.stored.borrow().map(DbKey::from_bytes))
    }

    fn set(&self, key: &DbKey) -> std::result::Result<(), KeyringFailure> {
        if !self.reachable {
            return Err(self.failure());
        }
        *self.stored.borrow_mut() = Some(key.0);
        Ok(())
    }

    fn delete(&self) -> std::result::Result<(), KeyringFailure> {
        if !self.reachable {
            return Err(self.failure());
        }
        *self.stored.borrow_mut() = None;
        Ok(())
    }
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("ilot.db")
}

#[cfg(unix)]
fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_unreachable_keyring_falls_back_to_a_private_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let kr = FakeKeyring::unreachable();
    let (key, loc) = resolve_with(&db, KeyMode::Auto, &kr, "u").unwrap();
    let file = key_file_path(&db);
    assert_eq!(loc, KeyLocation::File(file.clone()));
    #[cfg(unix)]
    assert_eq!(mode_of(&file), 0o600);
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(text.trim(), key.to_hex().as_str());
    assert!(!Path::new(&format!("{}.tmp", file.display())).exists());

    // The database now exists: the same key comes back from the file.
    fs::write(&db, [0u8; 4096]).unwrap();
    let (again, _) = resolve_with(&db, KeyMode::Auto, &kr, "u").unwrap();
    assert_eq!(again.0, key.0);
    // A keyring that works again but never had the key: the file still holds it.
    let (again, loc) = resolve_with(&db, KeyMode::Auto, &FakeKeyring::working(), "u").unwrap();
    assert_eq!((again.0, loc), (key.0, KeyLocation::File(file)));
}

#[test]
fn a_working_keyring_keeps_the_key_and_no_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let kr = FakeKeyring::working();
    let (key, loc) = resolve_with(&db, KeyMode::Auto, &kr, "/x/ilot.db").unwrap();
    assert_eq!(
        loc,
        KeyLocation::Keyring {
            service: "ilot".into(),
            user: "/x/ilot.db".into()
        }
    );
    assert_eq!(kr.stored.borrow().unwrap(), key.0);
    assert!(!key_file_path(&db).exists());
    fs::write(&db, [0u8; 4096]).unwrap();
    let (again, _) = resolve_with(&db, KeyMode::Keyring, &kr, "/x/ilot.db").unwrap();
    assert_eq!(again.0, key.0);
}

#[test]
fn keyring_mode_never_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let e = resolve_with(&db, KeyMode::Keyring, &FakeKeyring::unreachable(), "u").unwrap_err();
    assert!(
        matches!(e, StoreError::Keyring(ref m) if m.contains("Secret Service")),
        "{e}"
    );
    assert!(!key_file_path(&db).exists());
}

#[test]
fn an_existing_database_never_gets_a_fresh_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    fs::write(&db, [7u8; 4096]).unwrap();
    for (mode, kr) in [
        (KeyMode::Auto, FakeKeyring::unreachable()),
        (KeyMode::Auto, FakeKeyring::working()),
        (KeyMode::Keyring, FakeKeyring::working()),
        (KeyMode::File, FakeKeyring::working()),
    ] {
        let e = resolve_with(&db, mode, &kr, "u").unwrap_err();
        assert!(matches!(e, StoreError::KeyMissing), "{mode:?}: {e}");
        assert!(kr.stored.borrow().is_none());
    }
    assert!(!key_file_path(&db).exists());
    // Data only in the write-ahead log still makes a database.
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    fs::write(&db, b"").unwrap();
    fs::write(format!("{}-wal", db.display()), [1u8; 32]).unwrap();
    let e = resolve_with(&db, KeyMode::File, &FakeKeyring::working(), "u").unwrap_err();
    assert!(matches!(e, StoreError::KeyMissing), "{e}");
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let (_, _) = resolve_with(&db, KeyMode::File, &FakeKeyring::working(), "u").unwrap();
    let file = key_file_path(&db);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let e = resolve_with(&db, KeyMode::File, &FakeKeyring::working(), "u").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StoreError::KeyFile { .. }), "{msg}");
    assert!(msg.contains("0644") && msg.contains("chmod 600"), "{msg}");
    assert!(!msg.contains(&fs::read_to_string(&file).unwrap().trim().to_string()));
}

#[test]
fn a_damaged_key_file_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let file = key_file_path(&db);
    private_create_new(&file)
        .unwrap()
        .write_all(b"not a key\n")
        .unwrap();
    let e = resolve_with(&db, KeyMode::File, &FakeKeyring::working(), "u").unwrap_err();
    assert!(e.to_string().contains("64 hexadecimal digits"), "{e}");
    assert_eq!(fs::read(&file).unwrap(), b"not a key\n");
}

#[test]
fn key_modes_parse() {
    assert_eq!("auto".parse::<KeyMode>().unwrap(), KeyMode::Auto);
    assert_eq!(" Keyring ".parse::<KeyMode>().unwrap(), KeyMode::Keyring);
    assert_eq!("FILE".parse::<KeyMode>().unwrap(), KeyMode::File);
    let e = "vault".parse::<KeyMode>().unwrap_err().to_string();
    assert!(e.contains("auto keyring file"), "{e}");
}

#[test]
fn keys_are_random_and_never_shown() {
    let (a, b) = (DbKey::generate(), DbKey::generate());
    assert_ne!(a.0, b.0);
    assert_eq!(format!("{a:?}"), "DbKey(..)");
    assert_eq!(DbKey::from_hex(&a.to_hex()).unwrap().0, a.0);
    assert!(DbKey::from_hex("abcd").is_none());
    assert!(a.pragma().starts_with("PRAGMA key = \"x'"));
}

#[test]
fn key_file_sits_beside_the_database() {
    assert_eq!(
        key_file_path(Path::new("/data/ilot.db")),
        PathBuf::from("/data/ilot.db.key")
    );
}

#[test]
fn a_named_secret_falls_back_to_its_own_private_file_and_is_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let secret = Zeroizing::new([0x5A; KEY_LEN]);
    let down = FakeKeyring::unreachable();
    let loc = put_secret_with(&db, "device", KeyMode::Auto, &down, "u#device", &secret).unwrap();
    let file = secret_file_path(&db, "device");
    assert_eq!(loc, KeyLocation::File(file.clone()));
    assert!(file.ends_with("ilot.db.device.key"));
    assert!(
        !key_file_path(&db).exists(),
        "the database key file is another file"
    );
    #[cfg(unix)]
    assert_eq!(mode_of(&file), 0o600);
    let (got, loc) = get_secret_with(&db, "device", KeyMode::Auto, &down, "u#device")
        .unwrap()
        .unwrap();
    assert_eq!(*got, [0x5A; KEY_LEN]);
    assert_eq!(loc, KeyLocation::File(file.clone()));
    // Keyring only: an unreachable keyring is an error, the file is not used.
    let e = get_secret_with(&db, "device", KeyMode::Keyring, &down, "u#device").unwrap_err();
    assert!(matches!(e, StoreError::Keyring(_)), "{e}");
    // A new enrolment replaces the file.
    let other = Zeroizing::new([0x11; KEY_LEN]);
    put_secret_with(&db, "device", KeyMode::File, &down, "u#device", &other).unwrap();
    let (got, _) = get_secret_with(&db, "device", KeyMode::File, &down, "u#device")
        .unwrap()
        .unwrap();
    assert_eq!(*got, [0x11; KEY_LEN]);
}

#[test]
fn a_named_secret_goes_to_a_working_keyring_and_never_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let ring = FakeKeyring::working();
    assert!(
        get_secret_with(&db, "device", KeyMode::Auto, &ring, "u#device")
            .unwrap()
            .is_none(),
        "never kept"
    );
    let secret = Zeroizing::new([0x77; KEY_LEN]);
    let loc = put_secret_with(&db, "device", KeyMode::Auto, &ring, "u#device", &secret).unwrap();
    assert_eq!(
        loc,
        KeyLocation::Keyring {
            service: KEYRING_SERVICE.into(),
            user: "u#device".into()
        }
    );
    assert!(!secret_file_path(&db, "device").exists());
    let (got, _) = get_secret_with(&db, "device", KeyMode::Keyring, &ring, "u#device")
        .unwrap()
        .unwrap();
    assert_eq!(*got, [0x77; KEY_LEN]);
}

#[test]
fn a_deleted_secret_is_gone_from_the_keyring_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let secret = Zeroizing::new([0x33; KEY_LEN]);
    let ring = FakeKeyring::working();
    put_secret_with(&db, "device", KeyMode::Keyring, &ring, "u#device", &secret).unwrap();
    delete_secret_with(&db, "device", KeyMode::Keyring, &ring).unwrap();
    assert!(
        get_secret_with(&db, "device", KeyMode::Keyring, &ring, "u#device")
            .unwrap()
            .is_none()
    );
    // Deleting again is fine: nothing kept.
    delete_secret_with(&db, "device", KeyMode::Keyring, &ring).unwrap();

    let down = FakeKeyring::unreachable();
    put_secret_with(&db, "device", KeyMode::Auto, &down, "u#device", &secret).unwrap();
    assert!(secret_file_path(&db, "device").exists());
    delete_secret_with(&db, "device", KeyMode::Auto, &down).unwrap();
    assert!(!secret_file_path(&db, "device").exists());
    assert!(
        get_secret_with(&db, "device", KeyMode::Auto, &down, "u#device")
            .unwrap()
            .is_none()
    );
    // With the keyring required, an unreachable one is an error, not a silent "done".
    assert!(delete_secret_with(&db, "device", KeyMode::Keyring, &down).is_err());
}
