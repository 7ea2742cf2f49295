//! The patient's access log holds the console's list reads that showed the patient (V13): the
//! triage list, the patient list, the team's alerts and the billing table, each once per
//! patient shown, merged with the direct reads in id order; never for a patient of another
//! team or a restricted record (lists leave it out); the list reads recorded before V13 are
//! linked by the migration from their detail. The physician's view of the patient's log (the
//! console) shows them too, without the list's detail. On every backend.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use ilot_server::storage::{AccessRow, AuditEvent, Storage};
use ilot_wire::{CareRole, PatientId};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::conformance::{backends, patient, t0};
use crate::support::*;

/// The actions of list reads (and only those) in the access logs below.
const LISTS: [&str; 5] = [
    "triage",
    "list-patients",
    "read-open-alerts",
    "read-billing",
    "export-billing",
];

fn get(s: &Srv, token: &str, path: &str) -> reqwest::blocking::Response {
    let r = Client::new()
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r
}

fn create(s: &Srv, token: &str, name: &str) -> PatientId {
    create_patient(s, token, name).0
}

/// The whole access log of `p` (a year back from the server's clock).
fn log(s: &Srv, p: PatientId) -> Vec<AccessRow> {
    let since = s.now() - TimeDelta::days(365);
    s.state.storage().access_log(p, 0, since, 1000).unwrap()
}

/// The list reads of `p`'s log: (action, who, role, when).
fn list_reads(s: &Srv, p: PatientId) -> Vec<(String, String, CareRole, DateTime<Utc>)> {
    log(s, p)
        .into_iter()
        .filter(|r| LISTS.contains(&r.action.as_str()))
        .map(|r| (r.action, r.by.name, r.by.role, r.at))
        .collect()
}

fn ids(rows: &Value, key: &str) -> BTreeSet<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}

fn lists_reach_the_access_log(db: &str, name: &str) {
    let s = start_with_on(
        db,
        &[
            ("dr", CareRole::Physician, "A"),
            ("ide", CareRole::Nurse, "A"),
            ("drb", CareRole::Physician, "B"),
        ],
    );
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    s.advance(TimeDelta::seconds(30));
    let drb = login(&s, "drb");
    let (pa, pb, pr) = (
        create(&s, &dr, "PA"),
        create(&s, &dr, "PB"),
        create(&s, &dr, "PR"),
    );
    let pc = create(&s, &drb, "PC");
    // PA and the restricted PR have an open alert; PB none.
    let st = s.state.storage();
    let policy = st.prescription(pa).unwrap().unwrap().prescription.policy;
    for p in [pa, pr] {
        let al =
            ilot_rules::alerts::no_data(&policy, Some(t0()), t0() + TimeDelta::hours(49)).unwrap();
        st.upsert_alerts(p, &[al], t0()).unwrap();
    }
    let r = Client::new()
        .put(format!("{}/v1/operator/patients/{pr}/restriction", s.url))
        .bearer_auth(&dr)
        .json(&json!({ "restricted": true, "reason": "demande d'effacement du patient" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{name}");
    let before: Vec<_> = [pa, pb, pr, pc].iter().map(|p| log(&s, *p)).collect();

    s.advance(TimeDelta::minutes(5));
    let at = s.now();
    let triage: Value = get(&s, &ide, "/v1/operator/triage?days=14").json().unwrap();
    assert_eq!(
        ids(&triage["items"], "patient_id"),
        BTreeSet::from([pa.to_string(), pb.to_string()]),
        "{name}: the triage list shows A and B"
    );
    s.advance(TimeDelta::seconds(1));
    let listed: Value = get(&s, &ide, "/v1/operator/patients").json().unwrap();
    assert_eq!(
        ids(&listed, "id"),
        BTreeSet::from([pa.to_string(), pb.to_string()]),
        "{name}"
    );
    s.advance(TimeDelta::seconds(1));
    let alerts: Value = get(&s, &ide, "/v1/operator/alerts").json().unwrap();
    assert_eq!(
        ids(&alerts, "patient_id"),
        BTreeSet::from([pa.to_string()]),
        "{name}"
    );
    s.advance(TimeDelta::seconds(1));
    let billing: Value = get(&s, &dr, "/v1/operator/billing?month=2026-03")
        .json()
        .unwrap();
    assert_eq!(
        ids(&billing["rows"], "patient_id"),
        BTreeSet::from([pa.to_string(), pb.to_string()]),
        "{name}: {billing}"
    );

    let nurse = |action: &str, when: DateTime<Utc>| {
        (action.to_string(), "ide".to_string(), CareRole::Nurse, when)
    };
    let billed = (
        "read-billing".to_string(),
        "dr".to_string(),
        CareRole::Physician,
        at + TimeDelta::seconds(3),
    );
    assert_eq!(
        list_reads(&s, pa),
        vec![
            nurse("triage", at),
            nurse("list-patients", at + TimeDelta::seconds(1)),
            nurse("read-open-alerts", at + TimeDelta::seconds(2)),
            billed.clone(),
        ],
        "{name}: A was in every list, once each"
    );
    assert_eq!(
        list_reads(&s, pb),
        vec![
            nurse("triage", at),
            nurse("list-patients", at + TimeDelta::seconds(1)),
            billed,
        ],
        "{name}: B had no alert to list"
    );
    // Another team's patient, and a restricted record (left out of lists), get none; nor does
    // anything else change in their logs.
    assert_eq!(log(&s, pc), before[3], "{name}");
    assert_eq!(log(&s, pr), before[2], "{name}");
    // The direct records come first, in id order, then the list reads.
    let a = log(&s, pa);
    assert_eq!(a[..before[0].len()], before[0][..], "{name}");
    assert!(a.windows(2).all(|w| w[0].id < w[1].id), "{name}");

    // The physician's view of the same log (the console's patient page) shows the list reads
    // too, newest first, without the list's detail (it names the other patients shown).
    let page: Value = get(
        &s,
        &dr,
        &format!("/v1/operator/patients/{pa}/audit?limit=100"),
    )
    .json()
    .unwrap();
    let items = page["items"].as_array().unwrap();
    let shown: Vec<(&str, &str)> = items
        .iter()
        .filter(|r| LISTS.contains(&r["action"].as_str().unwrap()))
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["operator"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("read-billing", "dr"),
            ("read-open-alerts", "ide"),
            ("list-patients", "ide"),
            ("triage", "ide"),
        ],
        "{name}: {page}"
    );
    for r in items {
        if LISTS.contains(&r["action"].as_str().unwrap()) {
            assert!(r["detail"].is_null(), "{name}: {r}");
        }
    }
    // Each row once, newest first, and the other team's patient's view holds none of them.
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()),
        "{name}"
    );
    let c: Value = get(
        &s,
        &drb,
        &format!("/v1/operator/patients/{pc}/audit?limit=100"),
    )
    .json()
    .unwrap();
    assert!(
        c["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !LISTS.contains(&r["action"].as_str().unwrap())),
        "{name}: {c}"
    );
}

#[test]
fn a_list_read_is_in_the_access_log_of_every_patient_it_showed_on_sqlite() {
    lists_reach_the_access_log("sqlite::memory:", "sqlite");
}

#[test]
fn a_list_read_is_in_the_access_log_of_every_patient_it_showed_on_postgresql() {
    lists_reach_the_access_log(&ilot_testpg::fresh_database("access_lists"), "postgresql");
}

/// Every page of `p`'s log `limit` at a time, following the cursor.
fn pages(s: &dyn Storage, p: PatientId, limit: u32) -> Vec<AccessRow> {
    let since = t0() - TimeDelta::days(365);
    let (mut all, mut after) = (Vec::new(), 0);
    loop {
        let page = s.access_log(p, after, since, limit).unwrap();
        assert!(page.len() <= limit as usize);
        let Some(last) = page.last() else {
            return all;
        };
        after = last.id;
        all.extend(page);
    }
}

#[test]
fn paging_a_mix_of_direct_and_list_reads_returns_each_once_in_order() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let ((p, _), (q, _)) = (patient(s, 1), patient(s, 2));
        let dr = s
            .create_operator("dr", "Dr Martin", CareRole::Physician, "x", t0())
            .unwrap();
        let at = |m: i64| t0() + TimeDelta::minutes(m);
        let list = |action: &str, m: i64, shown: Vec<PatientId>| {
            s.record_audit(&AuditEvent::new(action, at(m)).by(dr).shows(shown))
                .unwrap();
        };
        s.audit(dr, "read-entries", Some(p), at(1)).unwrap();
        list("triage", 2, vec![p, q]);
        s.audit(dr, "read-summary", Some(q), at(3)).unwrap();
        list("list-patients", 4, vec![q]);
        // A record about p that also lists p: once.
        s.record_audit(
            &AuditEvent::new("read-open-alerts", at(5))
                .by(dr)
                .patient(p)
                .shows(vec![p, q]),
        )
        .unwrap();
        s.audit(dr, "read-metrics", Some(p), at(6)).unwrap();
        // Shown twice in one list (two billing rows): once.
        list("read-billing", 7, vec![q, p, p]);
        // Nobody logged in: not an act of the care team.
        s.record_audit(&AuditEvent::new("enrol-device", at(8)).shows(vec![p]))
            .unwrap();
        list("triage", 9, vec![p]);

        let want = [
            "read-entries",
            "triage",
            "read-open-alerts",
            "read-metrics",
            "read-billing",
            "triage",
        ];
        let whole = pages(s, p, 100);
        let got: Vec<_> = whole.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(got, want, "{name}");
        assert!(whole.windows(2).all(|w| w[0].id < w[1].id), "{name}");
        assert_eq!(whole[1].at, at(2), "{name}");
        assert_eq!(
            (whole[1].by.name.as_str(), whole[1].by.role),
            ("Dr Martin", CareRole::Physician),
            "{name}"
        );
        for limit in 1..=4 {
            assert_eq!(pages(s, p, limit), whole, "{name}: pages of {limit}");
        }
        let q_log: Vec<_> = pages(s, q, 2).into_iter().map(|r| r.action).collect();
        assert_eq!(
            q_log,
            [
                "triage",
                "read-summary",
                "list-patients",
                "read-open-alerts",
                "read-billing"
            ],
            "{name}"
        );
        // The record keeps which patients the list showed.
        let all = s.audit_log(100).unwrap();
        let billing = all.iter().find(|r| r.action == "read-billing").unwrap();
        assert_eq!(
            billing.detail,
            Some(json!({ "patients": [q.to_string(), p.to_string(), p.to_string()] })),
            "{name}"
        );
    }
}

/// Records of list reads as the server wrote them before V13 (the patients in the detail, no
/// links), then the database taken back to V12 and opened again: V13 links them.
#[test]
fn migration_v13_links_the_list_reads_recorded_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.db");
    for (name, url) in [
        ("sqlite file", format!("sqlite:{}", file.display())),
        ("postgresql", ilot_testpg::fresh_database("access_v13")),
    ] {
        let s = ilot_server::storage::open(&url, &crate::support::key()).unwrap();
        let ((p, _), (q, _)) = (patient(&*s, 1), patient(&*s, 2));
        let dr = s
            .create_operator("dr", "Dr Martin", CareRole::Physician, "x", t0())
            .unwrap();
        let gone = PatientId::from_bytes([9; 16]);
        let old = |action: &str, shown: Value| {
            s.record_audit(
                &AuditEvent::new(action, t0())
                    .by(dr)
                    .detail(json!({ "month": "2026-03", "patients": shown })),
            )
            .unwrap();
        };
        old("list-patients", json!([p.to_string(), gone.to_string()]));
        old(
            "read-billing",
            json!([q.to_string(), p.to_string(), p.to_string()]),
        );
        old("read-open-alerts", json!("not a list"));
        // Not a list read: its detail names nobody's access.
        old("login", json!([p.to_string()]));
        s.audit(dr, "read-entries", Some(q), t0()).unwrap();
        let since = t0() - TimeDelta::days(1);
        let actions = |s: &dyn Storage, who| -> Vec<String> {
            let log = s.access_log(who, 0, since, 100).unwrap();
            log.into_iter().map(|r| r.action).collect()
        };
        assert!(actions(&*s, p).is_empty(), "{name}: no links yet");
        drop(s);
        if name == "postgresql" {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.batch_execute(
                "DROP TABLE audit_patients; DELETE FROM schema_version WHERE version = 13;",
            )
            .unwrap();
        } else {
            let c = rusqlite::Connection::open(&file).unwrap();
            c.execute_batch("DROP TABLE audit_patients; PRAGMA user_version = 12;")
                .unwrap();
        }
        let again = ilot_server::storage::open(&url, &crate::support::key()).unwrap();
        assert_eq!(
            actions(&*again, p),
            ["list-patients", "read-billing"],
            "{name}"
        );
        assert_eq!(
            actions(&*again, q),
            ["read-billing", "read-entries"],
            "{name}"
        );
    }
}
