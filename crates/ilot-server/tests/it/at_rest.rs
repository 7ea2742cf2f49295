//! A stolen server disk (issue 10, item 7): the database's files are the owner's only, and the
//! database alone — SQLite file and WAL, or PostgreSQL's rows — gives away no server secret,
//! TOTP secret or pending enrolment code; a wrong key is refused, never taken for a new server.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{DiabetesType, Monitoring, Prescription};
use ilot_server::atrest::ServerKey;
use ilot_server::storage::{DeviceRow, NewPatient, Storage, TotpSecret};
use ilot_wire::{CareRole, CareTeamMember, DeviceId, DeviceSecret, PatientId, ServerSecret};
use zeroize::Zeroizing;

use crate::support::key;

fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

/// What must not be readable from the database alone.
struct Secrets {
    server: ServerSecret,
    totp: TotpSecret,
    code: String,
}

impl Secrets {
    fn new() -> Self {
        Self {
            server: ServerSecret::generate(&mut rand::rng()),
            totp: TotpSecret::generate(),
            code: ilot_wire::EnrolmentCode::generate(&mut rand::rng()).canonical(),
        }
    }

    /// Every byte string that would give one of them away.
    fn needles(&self) -> Vec<(String, Vec<u8>)> {
        vec![
            ("server secret".into(), self.server.to_bytes().to_vec()),
            ("TOTP secret".into(), self.totp.as_bytes().to_vec()),
            (
                "TOTP secret (base32)".into(),
                self.totp.base32().as_bytes().to_vec(),
            ),
            ("enrolment code".into(), self.code.as_bytes().to_vec()),
        ]
    }

    /// Panics naming the secret found in `haystack`.
    fn assert_absent(&self, what: &str, haystack: &[u8]) {
        for (name, needle) in self.needles() {
            assert!(
                !haystack
                    .windows(needle.len())
                    .any(|w| w == needle.as_slice()),
                "{what}: the {name} is readable in clear"
            );
        }
    }
}

/// Makes the server key, an operator with a TOTP secret, a patient with a pending code.
fn fill(s: &dyn Storage, x: &Secrets) {
    let got = s
        .server_secret(ServerSecret::from_bytes(x.server.to_bytes()))
        .unwrap();
    assert_eq!(got.public_key(), x.server.public_key());
    let op = s
        .create_operator("dr", "Dr Martin", CareRole::Physician, "h", t0())
        .unwrap();
    s.set_totp_secret(op, &x.totp).unwrap();
    let id = PatientId::from_bytes([3; 16]);
    s.create_patient(
        &NewPatient {
            pseudonym: "P3".into(),
            ins: None,
            tz: chrono_tz::Europe::Paris,
            prescription: Prescription::new(
                DiabetesType::Type1,
                Monitoring::Cgm,
                4,
                NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            ),
        },
        id,
        &CareTeamMember {
            name: "Dr Martin".into(),
            role: CareRole::Physician,
        },
        t0(),
    )
    .unwrap();
    s.add_enrolment_code(&x.code, id, t0() + TimeDelta::hours(72))
        .unwrap();
}

/// The secrets still work through the storage with the right key.
fn assert_usable(s: &dyn Storage, x: &Secrets, what: &str) {
    let fresh = ServerSecret::generate(&mut rand::rng());
    assert_eq!(
        s.server_secret(fresh).unwrap().public_key(),
        x.server.public_key(),
        "{what}: the server keeps its identity"
    );
    let op = s.operator_by_username("dr").unwrap().unwrap();
    assert_eq!(
        s.totp_secret(op.id).unwrap().as_ref(),
        Some(&x.totp),
        "{what}"
    );
    let dev = DeviceRow {
        id: DeviceId::from_bytes([9; 16]),
        patient_id: PatientId::from_bytes([3; 16]),
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: None,
        enrolled_at: t0(),
        last_batch_seq: None,
    };
    assert_eq!(
        s.redeem_code(&x.code, &dev, t0()).unwrap(),
        Ok(PatientId::from_bytes([3; 16])),
        "{what}: the pending code still enrols"
    );
}

fn files_of(db: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::read(&p)
                .ok()
                .map(|b| (std::path::PathBuf::from(p).display().to_string(), b))
        })
        .collect()
}

#[test]
fn a_stolen_sqlite_file_and_wal_hold_no_secret_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let url = format!("sqlite:{}", db.display());
    let x = Secrets::new();
    let s = ilot_server::storage::open(&url, &key()).unwrap();
    fill(s.as_ref(), &x);
    // While the server runs, the newest pages are in the WAL.
    let open_files = files_of(&db);
    assert!(
        open_files
            .iter()
            .any(|(p, b)| p.ends_with("-wal") && !b.is_empty()),
        "the test must look at a WAL with data"
    );
    for (path, bytes) in &open_files {
        x.assert_absent(path, bytes);
    }
    drop(s);
    for (path, bytes) in files_of(&db) {
        x.assert_absent(&path, &bytes);
    }
    let s = ilot_server::storage::open(&url, &key()).unwrap();
    assert_usable(s.as_ref(), &x, "reopened with its key");
}

#[test]
fn postgresql_rows_hold_no_secret_in_clear() {
    let url = ilot_testpg::fresh_database("at_rest_rows");
    let x = Secrets::new();
    let s = ilot_server::storage::open(&url, &key()).unwrap();
    fill(s.as_ref(), &x);
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut seen = 0;
    for table in ["server_key", "operators", "enrolment_codes"] {
        for row in raw
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .unwrap()
        {
            let text: String = row.get(0);
            // BYTEA shows as hex text: look for the hex form as well as the bytes.
            x.assert_absent(table, text.as_bytes());
            for (name, needle) in x.needles() {
                assert!(
                    !text.contains(&hex::encode(&needle)),
                    "{table}: the {name} is readable in clear (hex)"
                );
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 3, "one row in each table was looked at");
    assert_usable(s.as_ref(), &x, "postgresql");
}

#[cfg(unix)]
#[test]
fn the_sqlite_files_are_the_owners_only_from_the_first_byte() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let s = ilot_server::storage::open(&format!("sqlite:{}", db.display()), &key()).unwrap();
    fill(s.as_ref(), &Secrets::new());
    let mut checked = 0;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:04o}", db.display());
        checked += 1;
    }
    assert_eq!(checked, 3);
    drop(s);
    // A file an earlier version left world-readable is tightened when the server opens it.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _s = ilot_server::storage::open(&format!("sqlite:{}", db.display()), &key()).unwrap();
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:04o}");
}

#[test]
fn a_wrong_key_is_refused_and_no_new_identity_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("sqlite:{}", dir.path().join("s.db").display());
    let pg = ilot_testpg::fresh_database("at_rest_wrong_key");
    for url in [file, pg] {
        let x = Secrets::new();
        let s = ilot_server::storage::open(&url, &key()).unwrap();
        fill(s.as_ref(), &x);
        drop(s);
        let other = ServerKey::from_bytes(&Zeroizing::new([8; 32]));
        let e = ilot_server::storage::open(&url, &other)
            .err()
            .expect("a wrong key must be refused")
            .to_string();
        assert!(
            e.contains("does not open the database's secrets") && e.contains("new server identity"),
            "{url}: {e}"
        );
        let s = ilot_server::storage::open(&url, &key()).unwrap();
        assert_usable(s.as_ref(), &x, &url);
    }
}

/// A database written before V5 (its secrets in clear) is sealed on the first start with a
/// key, in one transaction, and keeps working.
#[test]
fn clear_secrets_of_an_older_database_are_sealed_on_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let file = format!("sqlite:{}", db.display());
    let pg = ilot_testpg::fresh_database("at_rest_migrate");
    for url in [file, pg] {
        let x = Secrets::new();
        let s = ilot_server::storage::open(&url, &key()).unwrap();
        fill(s.as_ref(), &x);
        drop(s);
        // Back to what an older server wrote: the values in clear, no key check.
        make_clear(&url, &x);
        let s = ilot_server::storage::open(&url, &key()).unwrap();
        if url.starts_with("sqlite:") {
            for (path, bytes) in files_of(&db) {
                x.assert_absent(&path, &bytes);
            }
        } else {
            let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            for table in ["server_key", "operators", "enrolment_codes"] {
                for row in raw
                    .query(&format!("SELECT t::text FROM {table} t"), &[])
                    .unwrap()
                {
                    let text: String = row.get(0);
                    for (name, needle) in x.needles() {
                        assert!(
                            !text.contains(&hex::encode(&needle))
                                && !text.contains(std::str::from_utf8(&needle).unwrap_or("\u{0}")),
                            "{table}: the {name} is still in clear"
                        );
                    }
                }
            }
        }
        assert_usable(s.as_ref(), &x, &url);
    }
}

fn make_clear(url: &str, x: &Secrets) {
    let server = x.server.to_bytes().to_vec();
    let totp = x.totp.as_bytes().to_vec();
    if let Some(path) = url.strip_prefix("sqlite:") {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute_batch("DELETE FROM at_rest").unwrap();
        c.execute("UPDATE server_key SET secret = ?1", [&server])
            .unwrap();
        c.execute("UPDATE operators SET totp_secret = ?1", [&totp])
            .unwrap();
        c.execute("UPDATE enrolment_codes SET code = ?1", [&x.code])
            .unwrap();
        let found: Vec<u8> = c
            .query_row("SELECT totp_secret FROM operators", [], |r| r.get(0))
            .unwrap();
        assert_eq!(found, totp, "the older database holds the secret in clear");
    } else {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.batch_execute("DELETE FROM at_rest").unwrap();
        c.execute("UPDATE server_key SET secret = $1", &[&server])
            .unwrap();
        c.execute("UPDATE operators SET totp_secret = $1", &[&totp])
            .unwrap();
        c.execute("UPDATE enrolment_codes SET code = $1", &[&x.code])
            .unwrap();
    }
}
