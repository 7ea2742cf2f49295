//! Encrypted database files: creation, reopening, wrong keys and files that are not ours.

use std::fs;

use ilot_store::{DbKey, Store, StoreError};

use crate::{cgm_series, now};

fn key(b: u8) -> DbKey {
    DbKey::from_bytes([b; 32])
}

#[test]
fn a_file_database_is_encrypted_migrated_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ilot.db");
    let entries = cgm_series(100);
    let install_id = {
        let mut s = Store::open(&path, &key(1)).unwrap();
        assert_eq!(s.path(), Some(path.as_path()));
        assert_eq!(s.add_batch(&entries, now()).unwrap().added, 100);
        assert!(dir.path().join("ilot.db-wal").exists(), "WAL mode");
        s.installation_id().unwrap()
    };
    let bytes = fs::read(&path).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3"));
    assert!(
        !bytes.windows(12).any(|w| w == b"dexcom:g7:it"),
        "device id readable in the file"
    );

    let mut s = Store::open(&path, &key(1)).unwrap();
    assert_eq!(s.installation_id().unwrap(), install_id);
    assert_eq!(s.count_entries().unwrap(), 100);
    assert_eq!(s.outbox_len().unwrap(), 100);
    // Re-downloading after a restart adds nothing.
    let again = s.add_batch(&entries, now()).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 100));
    let first = s.get(again.ids[0].unwrap()).unwrap().unwrap();
    assert_eq!(first.entry, entries[0]);
}

#[test]
fn a_wrong_key_is_refused_and_the_file_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ilot.db");
    {
        let mut s = Store::open(&path, &key(1)).unwrap();
        s.add_batch(&cgm_series(10), now()).unwrap();
    }
    let before = fs::read(&path).unwrap();
    let wal_before = fs::read(dir.path().join("ilot.db-wal")).ok();
    let e = Store::open(&path, &key(2)).unwrap_err();
    assert!(matches!(e, StoreError::WrongKey), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("cannot be opened with the key found")
            && msg.contains("was the keyring reset, or is this another patient's file?"),
        "{msg}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(fs::read(dir.path().join("ilot.db-wal")).ok(), wal_before);
    // The right key still opens it.
    assert_eq!(
        Store::open(&path, &key(1))
            .unwrap()
            .count_entries()
            .unwrap(),
        10
    );
}

#[test]
fn a_file_that_is_not_a_database_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    fs::write(&path, "these are my notes, not a database\n").unwrap();
    let e = Store::open(&path, &key(1)).unwrap_err();
    assert!(matches!(e, StoreError::NotADatabase), "{e}");
    assert!(e.to_string().contains("not an Ilot database"), "{e}");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "these are my notes, not a database\n"
    );
}

#[test]
fn a_plain_sqlite_file_is_not_an_ilot_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let before = fs::read(&path).unwrap();
    let e = Store::open(&path, &key(1)).unwrap_err();
    assert!(matches!(e, StoreError::NotADatabase), "{e}");
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn an_empty_file_becomes_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ilot.db");
    fs::write(&path, b"").unwrap();
    let s = Store::open(&path, &key(3)).unwrap();
    assert_eq!(s.count_entries().unwrap(), 0);
}
