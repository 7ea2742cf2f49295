//! The consent history (migration V10) on every backend, and its routes through the real HTTP
//! server: decisions from the device and from a professional in consultation (a refusal too)
//! make one history in time order; the latest decision decides whether entries are stored; the
//! access log the patient sees holds the operators' acts about this patient only.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_server::storage::{ConsentSource, IngestBatch, IngestOutcome, NewConsent, Storage};
use ilot_wire::{
    BatchDigest, CareRole, ConsentChange, ConsentChannel, ConsentDecision, DeviceId, PatientId,
    WireEntry,
};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::conformance::{backends, items, patient, t0};
use crate::support::*;

fn push(
    s: &dyn Storage,
    p: PatientId,
    d: DeviceId,
    seq: u64,
    items: &[WireEntry],
    consent: Option<ConsentChange>,
    now: DateTime<Utc>,
) -> IngestOutcome {
    s.ingest(&IngestBatch {
        patient_id: p,
        device_id: d,
        seq,
        digest: BatchDigest::from_bytes([seq as u8; 32]),
        items,
        consent,
        now,
    })
    .unwrap()
}

fn by_operator(s: &dyn Storage, name: &str, role: CareRole) -> i64 {
    s.create_operator(name, &format!("{name} (nom)"), role, "x", t0())
        .unwrap()
}

#[test]
fn the_history_keeps_every_decision_and_the_latest_decides_what_is_stored() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let (p, d) = patient(s, 1);
        let (other, _) = patient(s, 2);
        let ide = by_operator(s, "ide", CareRole::Nurse);
        assert!(s.consent_history(p).unwrap().is_empty(), "{name}");
        // A refusal collected in consultation is recorded, and nothing is stored after it.
        let refused = s
            .record_consent(
                p,
                &NewConsent {
                    decision: ConsentDecision::Refused,
                    at: t0() - TimeDelta::hours(3),
                    notice_version: 2,
                    by: ConsentSource::Operator(ide),
                },
                t0(),
            )
            .unwrap();
        assert_eq!(refused.channel, ConsentChannel::Consultation, "{name}");
        assert_eq!(
            refused
                .collected_by
                .as_ref()
                .map(|m| (m.name.as_str(), m.role)),
            Some(("ide (nom)", CareRole::Nurse)),
            "{name}"
        );
        assert_eq!(s.patient(p).unwrap().unwrap().consent_granted, Some(false));
        let v = items(2, 1);
        assert_eq!(
            push(s, p, d, 1, &v, None, t0()),
            IngestOutcome::ConsentWithdrawn,
            "{name}"
        );
        // A device's change older than the refusal does not override it…
        let old_grant = ConsentChange {
            granted: true,
            at: t0() - TimeDelta::hours(4),
            notice_version: 1,
        };
        assert_eq!(
            push(s, p, d, 1, &v, Some(old_grant), t0()),
            IngestOutcome::ConsentWithdrawn,
            "{name}"
        );
        assert_eq!(s.count_entry_versions(p).unwrap(), 0, "{name}");
        // …a later consent given in the app does, and is a history record of the device.
        let grant = ConsentChange {
            granted: true,
            at: t0() - TimeDelta::hours(1),
            notice_version: 2,
        };
        let out = push(s, p, d, 2, &v, Some(grant), t0());
        assert!(matches!(out, IngestOutcome::Stored(_)), "{name}: {out:?}");
        assert_eq!(s.count_entry_versions(p).unwrap(), 2, "{name}");
        // The professional then records the patient's withdrawal: the next push is refused.
        s.record_consent(
            p,
            &NewConsent {
                decision: ConsentDecision::Withdrawn,
                at: t0(),
                notice_version: 2,
                by: ConsentSource::Operator(ide),
            },
            t0() + TimeDelta::minutes(1),
        )
        .unwrap();
        let more = items(3, 2);
        assert_eq!(
            push(s, p, d, 3, &more, None, t0() + TimeDelta::minutes(2)),
            IngestOutcome::ConsentWithdrawn,
            "{name}"
        );
        assert_eq!(s.count_entry_versions(p).unwrap(), 2, "{name}");
        let h = s.consent_history(p).unwrap();
        let seen: Vec<_> = h
            .iter()
            .map(|e| (e.decision, e.channel, e.notice_version, e.at))
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    ConsentDecision::Refused,
                    ConsentChannel::Consultation,
                    Some(2),
                    t0() - TimeDelta::hours(3)
                ),
                (
                    ConsentDecision::Given,
                    ConsentChannel::App,
                    Some(2),
                    t0() - TimeDelta::hours(1)
                ),
                (
                    ConsentDecision::Withdrawn,
                    ConsentChannel::Consultation,
                    Some(2),
                    t0()
                ),
            ],
            "{name}"
        );
        assert_eq!(h[1].device_id, Some(d), "{name}");
        assert_eq!(h[1].collected_by, None, "{name}");
        let row = s.patient(p).unwrap().unwrap();
        assert_eq!(
            (row.consent_granted, row.consent_at),
            (Some(false), Some(t0())),
            "{name}"
        );
        // Another patient's history is its own.
        assert!(s.consent_history(other).unwrap().is_empty(), "{name}");
    }
}

#[test]
fn the_access_log_holds_operators_acts_about_the_patient_after_the_cursor() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let (p, _) = patient(s, 1);
        let (other, _) = patient(s, 2);
        let dr = by_operator(s, "martin", CareRole::Physician);
        let old = t0() - TimeDelta::days(400);
        s.audit(dr, "read-entries", Some(p), old).unwrap();
        s.audit(dr, "read-summary", Some(p), t0()).unwrap();
        s.audit(dr, "read-entries", Some(other), t0()).unwrap();
        s.audit(dr, "triage", None, t0()).unwrap();
        // Nobody logged in (a device's enrolment): not an access by the care team.
        s.record_audit(&ilot_server::storage::AuditEvent::new("enrol", t0()).patient(p))
            .unwrap();
        s.audit(dr, "send-message", Some(p), t0() + TimeDelta::minutes(1))
            .unwrap();
        let since = t0() - TimeDelta::days(365);
        let log = s.access_log(p, 0, since, 10).unwrap();
        let got: Vec<_> = log
            .iter()
            .map(|r| (r.action.as_str(), r.by.name.as_str(), r.by.role))
            .collect();
        assert_eq!(
            got,
            vec![
                ("read-summary", "martin (nom)", CareRole::Physician),
                ("send-message", "martin (nom)", CareRole::Physician),
            ],
            "{name}"
        );
        // After the cursor, and bounded.
        let after = s.access_log(p, log[0].id, since, 10).unwrap();
        assert_eq!(after.len(), 1, "{name}");
        assert_eq!(after[0].action, "send-message", "{name}");
        assert_eq!(s.access_log(p, 0, since, 1).unwrap().len(), 1, "{name}");
        // 400 days back is there when asked for.
        assert_eq!(s.access_log(p, 0, old, 10).unwrap().len(), 3, "{name}");
    }
}

fn post(s: &Srv, token: &str, p: &str, body: Value) -> (u16, Value) {
    let r = Client::new()
        .post(format!("{}/v1/operator/patients/{p}/consent", s.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

#[test]
fn a_nurse_records_a_refusal_in_consultation_and_bad_input_changes_nothing() {
    let s = start();
    let ide = login(&s, "ide");
    let dr = login(&s, "dr");
    let r: Value = Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .json(&json!({ "pseudonym": "P", "prescription": prescription() }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let p = r["patient_id"].as_str().unwrap().to_string();
    let future = (s.now() + TimeDelta::hours(1)).to_rfc3339();
    for (body, says) in [
        (
            json!({ "decision": "refused", "notice_version": 0 }),
            "notice_version",
        ),
        (
            json!({ "decision": "refused", "notice_version": 99 }),
            "notice_version",
        ),
        (json!({ "decision": "maybe", "notice_version": 2 }), "maybe"),
        (json!({ "decision": "refused" }), "notice_version"),
        (
            json!({ "decision": "refused", "notice_version": 2, "at": future }),
            "future",
        ),
        (
            json!({ "decision": "refused", "notice_version": 2, "by": "someone" }),
            "by",
        ),
    ] {
        let (st, e) = post(&s, &ide, &p, body.clone());
        assert_eq!(st, 400, "{body}: {e}");
        assert!(e["message"].as_str().unwrap().contains(says), "{body}: {e}");
    }
    let id: PatientId = p.parse().unwrap();
    assert!(s.state.storage().consent_history(id).unwrap().is_empty());
    let (st, e) = post(
        &s,
        &ide,
        &p,
        json!({ "decision": "refused", "notice_version": 2 }),
    );
    assert_eq!(st, 200, "{e}");
    assert_eq!(e["decision"], "refused");
    assert_eq!(e["channel"], "consultation");
    assert_eq!(e["collected_by"]["role"], "nurse");
    let page: Value = Client::new()
        .get(format!("{}/v1/operator/patients/{p}/consent", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(page["current"]["decision"], "refused", "{page}");
    assert_eq!(page["history"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["notice_version"], 2);
    let audit = s.state.storage().audit_log(100).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "record-consent" && a.patient_id == Some(id))
    );
    assert!(
        audit
            .iter()
            .any(|a| a.action == "read-consent" && a.patient_id == Some(id))
    );
}

/// A database from before the history (V1 here) keeps each patient's latest consent as the
/// first record of its history, without a notice version (it was not kept).
#[test]
fn migration_v11_copies_the_consent_each_patient_had() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let (withdrawn, given, silent) = (
        PatientId::from_bytes([1; 16]),
        PatientId::from_bytes([2; 16]),
        PatientId::from_bytes([3; 16]),
    );
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("../../src/storage/schema.sql"))
            .unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        for (p, granted, at) in [
            (withdrawn, Some(false), Some(5_000i64)),
            (given, Some(true), Some(3_000)),
            (silent, None, None),
        ] {
            c.execute(
                "INSERT INTO patients (id, pseudonym, tz, created_ms, consent_granted, consent_ms) VALUES (?1, 'P', 'Europe/Paris', 0, ?2, ?3)",
                rusqlite::params![p.to_string(), granted, at],
            )
            .unwrap();
        }
    }
    let s = ilot_server::storage::open(
        &format!("sqlite:{}", path.display()),
        &crate::support::key(),
    )
    .unwrap();
    let of = |p| {
        s.consent_history(p)
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e.decision,
                    e.channel,
                    e.notice_version,
                    e.at.timestamp_millis(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of(withdrawn),
        vec![(ConsentDecision::Withdrawn, ConsentChannel::App, None, 5_000)]
    );
    assert_eq!(
        of(given),
        vec![(ConsentDecision::Given, ConsentChannel::App, None, 3_000)]
    );
    assert!(of(silent).is_empty());
}
