//! Storage conformance of the failed-attempt counters and the audit records of migration V3,
//! on every backend of `conformance::backends()`, plus concurrent counting from two
//! connections pools (two nodes) on one PostgreSQL database.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use ilot_server::ratelimit::{Limit, RateKey};
use ilot_server::storage::{AuditEvent, Storage};
use ilot_wire::{CareRole, PatientId};
use serde_json::json;

use crate::conformance::backends;

fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

fn key(name: &str, attempts: u32) -> RateKey {
    RateKey::new(
        "test",
        name.as_bytes(),
        Limit {
            attempts,
            window: Duration::from_secs(60),
        },
    )
}

fn at(s: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(s)
}

#[test]
fn attempts_are_counted_before_the_limit_and_closed_windows_are_evicted() {
    for (name, s, _dir) in backends() {
        let s = s.as_ref();
        let (a, b) = (key("a", 3), key("b", 1));
        for i in 0..3 {
            assert_eq!(s.count_attempt(&[a], at(i)).unwrap(), None, "{name}: {i}");
        }
        assert_eq!(
            s.count_attempt(&[a], at(10)).unwrap(),
            Some(50),
            "{name}: the 4th within the window, 50 s before it closes"
        );
        // Refused because of `a`: `b` is not counted either.
        assert_eq!(
            s.count_attempt(&[b, a], at(10)).unwrap(),
            Some(50),
            "{name}"
        );
        assert_eq!(s.count_attempt(&[b], at(10)).unwrap(), None, "{name}");
        assert_eq!(s.count_attempt(&[b], at(11)).unwrap(), Some(59), "{name}");
        // A forgiven attempt (a login that succeeded) frees one place, never below zero.
        s.forgive_attempt(&[a], at(12)).unwrap();
        assert_eq!(s.count_attempt(&[a], at(12)).unwrap(), None, "{name}");
        assert_eq!(s.count_attempt(&[a], at(12)).unwrap(), Some(48), "{name}");
        assert_eq!(s.rate_windows().unwrap(), 2, "{name}");
        // `a`'s window (from 0 s) closes at 60 s, `b`'s (from 10 s) at 70 s; the next count of
        // any key deletes what is closed.
        let c = key("c", 1);
        assert_eq!(s.count_attempt(&[c], at(60)).unwrap(), None, "{name}");
        assert_eq!(
            s.rate_windows().unwrap(),
            2,
            "{name}: a evicted, b still open"
        );
        assert_eq!(
            s.count_attempt(&[key("d", 1)], at(70)).unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            s.rate_windows().unwrap(),
            2,
            "{name}: b evicted, c and d open"
        );
        // A key whose window closed starts afresh.
        for _ in 0..3 {
            assert_eq!(s.count_attempt(&[a], at(71)).unwrap(), None, "{name}");
        }
        s.forgive_attempt(&[key("never seen", 1)], at(71)).unwrap();
        assert_eq!(
            s.rate_windows().unwrap(),
            3,
            "{name}: a, c, d; forgiving adds nothing"
        );
    }
}

/// Counting is one transaction per attempt: 8 threads × 10 attempts against one key with a
/// limit of 25 count exactly 25, on every backend, and from two nodes' pools on PostgreSQL.
#[test]
fn concurrent_attempts_never_count_past_the_limit() {
    let pg = ilot_testpg::fresh_database("limits_race");
    let second = ilot_server::storage::open(&pg, &crate::support::key()).unwrap();
    let mut stores = backends();
    stores.push((
        "postgresql, two nodes",
        ilot_server::storage::open(&pg, &crate::support::key()).unwrap(),
        None,
    ));
    for (name, s, _dir) in &stores {
        let nodes: Vec<&dyn Storage> = if *name == "postgresql, two nodes" {
            vec![s.as_ref(), second.as_ref()]
        } else {
            vec![s.as_ref()]
        };
        let k = key("shared", 25);
        let other = key("other", 1000);
        let accepted: usize = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..8)
                .map(|t| {
                    let node = nodes[t % nodes.len()];
                    sc.spawn(move || {
                        (0..10)
                            .filter(|_| node.count_attempt(&[other, k], t0()).unwrap().is_none())
                            .count()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(accepted, 25, "{name}");
    }
}

fn patient(s: &dyn ilot_server::storage::Storage, n: u8) -> PatientId {
    crate::support::patient_at(s, n, t0())
}

#[test]
fn audit_records_keep_client_and_detail_and_teams_see_their_patients_enrolments() {
    for (name, s, _dir) in backends() {
        let s = s.as_ref();
        let (ta, tb) = (
            s.create_team("A", t0()).unwrap(),
            s.create_team("B", t0()).unwrap(),
        );
        let oa = s
            .create_operator("oa", "oa", CareRole::Nurse, "$argon2id$x", t0())
            .unwrap();
        s.set_operator_team(oa, ta).unwrap();
        let (pa, pb) = (patient(s, 1), patient(s, 2));
        s.set_patient_team(pa, ta).unwrap();
        s.set_patient_team(pb, tb).unwrap();

        s.record_audit(
            &AuditEvent::new("list-patients", t0())
                .by(oa)
                .from("203.0.113.7 via 10.0.0.1")
                .detail(json!({ "patients": [pa.to_string()] })),
        )
        .unwrap();
        s.record_audit(
            &AuditEvent::new("enrol-device", at(1))
                .patient(pa)
                .from("198.51.100.1"),
        )
        .unwrap();
        s.record_audit(
            &AuditEvent::new("enrol-device", at(2))
                .patient(pb)
                .from("198.51.100.2"),
        )
        .unwrap();
        s.record_audit(
            &AuditEvent::new("login-failed", at(3))
                .from("192.0.2.9")
                .detail(json!({ "reason": "unknown user name" })),
        )
        .unwrap();

        let all = s.audit_log(10).unwrap();
        assert_eq!(all.len(), 4, "{name}");
        assert_eq!(all[0].operator_id, None, "{name}");
        assert_eq!(all[0].client.as_deref(), Some("192.0.2.9"), "{name}");
        assert_eq!(
            all[0].detail,
            Some(json!({ "reason": "unknown user name" })),
            "{name}"
        );
        assert_eq!(all[3].operator_id, Some(oa), "{name}");
        assert_eq!(
            all[3].detail,
            Some(json!({ "patients": [pa.to_string()] })),
            "{name}"
        );

        let seen: Vec<_> = s
            .team_audit_log(ta, 10)
            .unwrap()
            .into_iter()
            .map(|r| (r.action, r.patient_id, r.client))
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    "enrol-device".to_string(),
                    Some(pa),
                    Some("198.51.100.1".into())
                ),
                (
                    "list-patients".to_string(),
                    None,
                    Some("203.0.113.7 via 10.0.0.1".into())
                ),
            ],
            "{name}: team A sees its operator's acts and its patient's enrolment only"
        );
        let b: Vec<_> = s.team_audit_log(tb, 10).unwrap();
        assert_eq!(b.len(), 1, "{name}");
        assert_eq!(b[0].patient_id, Some(pb), "{name}");
    }
}
