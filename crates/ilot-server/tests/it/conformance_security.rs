//! Storage conformance of care teams and the TOTP second factor, on every backend of
//! `conformance::backends()`.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_server::storage::Storage;
use ilot_server::totp::TotpSecret;
use ilot_wire::{CareRole, PatientId};

use crate::conformance::backends;

fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

fn operator(s: &dyn Storage, user: &str) -> i64 {
    s.create_operator(user, user, CareRole::Nurse, "$argon2id$x", t0())
        .unwrap()
}

#[test]
fn teams_hold_operators_and_patients_and_scope_the_audit_log() {
    for (name, s, _dir) in backends() {
        let s = s.as_ref();
        let a = s.create_team("A", t0()).unwrap();
        let b = s.create_team("B", t0()).unwrap();
        assert_ne!(a, b);
        assert!(
            s.create_team("A", t0()).is_err(),
            "{name}: names are unique"
        );
        assert_eq!(s.team_by_name("A").unwrap(), Some(a), "{name}");
        assert_eq!(s.team_by_name("C").unwrap(), None, "{name}");

        let (oa, ob, loner) = (operator(s, "oa"), operator(s, "ob"), operator(s, "x"));
        s.set_operator_team(oa, a).unwrap();
        s.set_operator_team(ob, b).unwrap();
        assert_eq!(s.operator_team(oa).unwrap(), Some(a), "{name}");
        assert_eq!(s.operator_team(ob).unwrap(), Some(b), "{name}");
        assert_eq!(s.operator_team(loner).unwrap(), None, "{name}");
        assert_eq!(s.operator_team(9999).unwrap(), None, "{name}");
        assert!(s.set_operator_team(9999, a).is_err(), "{name}");

        // Created out of order in time: listed by creation time.
        let p2 = crate::support::patient_at(s, 2, t0() + TimeDelta::minutes(5));
        let p1 = crate::support::patient_at(s, 1, t0());
        let p3 = crate::support::patient_at(s, 3, t0());
        for p in [p1, p2] {
            s.set_patient_team(p, a).unwrap();
        }
        s.set_patient_team(p3, b).unwrap();
        assert_eq!(s.team_patients(a).unwrap(), vec![p1, p2], "{name}");
        assert_eq!(s.team_patients(b).unwrap(), vec![p3], "{name}");
        assert_eq!(s.patient_team(p1).unwrap(), Some(a), "{name}");
        let stranger = PatientId::from_bytes([9; 16]);
        assert_eq!(s.patient_team(stranger).unwrap(), None, "{name}");
        assert!(s.set_patient_team(stranger, a).is_err(), "{name}");

        s.audit(oa, "read-patient", Some(p1), t0()).unwrap();
        s.audit(ob, "read-patient", Some(p3), t0()).unwrap();
        s.audit(oa, "read-entries", Some(p2), t0()).unwrap();
        s.audit(loner, "login", None, t0()).unwrap();
        let log = s.team_audit_log(a, 100).unwrap();
        let seen: Vec<_> = log
            .iter()
            .map(|r| (r.operator_id, r.action.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![(Some(oa), "read-entries"), (Some(oa), "read-patient")],
            "{name}: newest first, team A only"
        );
        assert_eq!(s.team_audit_log(a, 1).unwrap().len(), 1, "{name}");
        assert_eq!(s.team_audit_log(b, 100).unwrap().len(), 1, "{name}");
    }
}

#[test]
fn a_totp_step_is_accepted_once_and_only_forward() {
    for (name, s, _dir) in backends() {
        let s = s.as_ref();
        let op = operator(s, "dr");
        assert_eq!(s.totp_secret(op).unwrap(), None, "{name}");
        assert!(
            !s.accept_totp_step(op, 100).unwrap(),
            "{name}: no secret, no code"
        );
        let secret = TotpSecret::generate();
        s.set_totp_secret(op, &secret).unwrap();
        assert_eq!(s.totp_secret(op).unwrap().as_ref(), Some(&secret), "{name}");
        assert!(s.accept_totp_step(op, 100).unwrap(), "{name}");
        assert!(!s.accept_totp_step(op, 100).unwrap(), "{name}: replay");
        assert!(!s.accept_totp_step(op, 99).unwrap(), "{name}: older");
        assert!(s.accept_totp_step(op, 101).unwrap(), "{name}");
        // A new secret (lost phone) starts afresh.
        let other = TotpSecret::generate();
        s.set_totp_secret(op, &other).unwrap();
        assert_eq!(s.totp_secret(op).unwrap().as_ref(), Some(&other), "{name}");
        assert!(s.accept_totp_step(op, 50).unwrap(), "{name}");
        // Steps are per operator.
        let ide = operator(s, "ide");
        s.set_totp_secret(ide, &secret).unwrap();
        assert!(s.accept_totp_step(ide, 50).unwrap(), "{name}");
        assert!(s.set_totp_secret(9999, &secret).is_err(), "{name}");
        assert_eq!(s.totp_secret(9999).unwrap(), None, "{name}");
    }
}

/// A database made by the first release keeps working: its operators and patients join the
/// team "default" when the V2 migration runs.
#[test]
fn a_version_1_sqlite_database_moves_everyone_to_the_default_team() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("../../src/storage/schema.sql"))
            .unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute(
            "INSERT INTO operators (username, name, role, password_hash, created_ms) VALUES ('dr', 'Dr', 'physician', 'h', 0)",
            [],
        )
        .unwrap();
        c.execute(
            "INSERT INTO patients (id, pseudonym, tz, created_ms) VALUES (?1, 'P', 'Europe/Paris', 0)",
            [PatientId::from_bytes([1; 16]).to_string()],
        )
        .unwrap();
    }
    let s = ilot_server::storage::open(
        &format!("sqlite:{}", path.display()),
        &crate::support::key(),
    )
    .unwrap();
    let team = s.team_by_name("default").unwrap().expect("default team");
    let op = s.operator_by_username("dr").unwrap().unwrap();
    assert_eq!(s.operator_team(op.id).unwrap(), Some(team));
    assert_eq!(
        s.team_patients(team).unwrap(),
        vec![PatientId::from_bytes([1; 16])]
    );
    // A fresh database has no team until one is made.
    let fresh = ilot_server::storage::open("sqlite::memory:", &crate::support::key()).unwrap();
    assert_eq!(fresh.team_by_name("default").unwrap(), None);
}
