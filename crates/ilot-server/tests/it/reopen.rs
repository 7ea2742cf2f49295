//! A telesurveillance ended by mistake reopens, through the real HTTP server, on SQLite and
//! PostgreSQL: only a physician of the patient's team, with a reason (1 to 200 characters),
//! audited; refusals change nothing; devices' batches are accepted again; the retention clock
//! is cleared (a purge 21 years later keeps the record); the closure is kept as an unmonitored
//! time, and no 30-day period holding any of it is billable (`not-monitored`).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_server::storage::IngestBatch;
use ilot_wire::api::{SEALED_MEDIA_TYPE, paths};
use ilot_wire::{BatchDigest, BatchHeader, CareRole, ConsentChange, OpenBatch, seal};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::record::{Enrolled, cgm, enrolled, readings, send};
use crate::support::*;

/// Pushes a sealed batch of two readings from `p`'s device at the server's time.
fn push(s: &Srv, p: &Enrolled, seq: u64) -> u16 {
    let at = s.now();
    let b = OpenBatch::new(
        BatchHeader::new(p.id, p.device, seq, at),
        readings(at - TimeDelta::minutes(30), 2, seq as i64 * 1000, at),
    );
    let bytes = seal(&b, &p.keys.to_server, &mut rand::rng())
        .unwrap()
        .into_bytes();
    Client::new()
        .post(format!("{}{}", s.url, paths::PUSH))
        .header("content-type", SEALED_MEDIA_TYPE)
        .body(bytes)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn reopens_on(db: &str) {
    let s = start_on(db);
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = enrolled(&s, &dr, "P1");
    let reopening = format!("/v1/operator/patients/{}/reopening", p.id);
    let why = |r: &str| Some(json!({ "reason": r }));

    // Not ended: nothing to reopen.
    let (st, v) = send(&s, "POST", &dr, &reopening, why("erreur"));
    assert_eq!(st, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("not ended"), "{v}");

    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &format!("/v1/operator/patients/{}/closure", p.id),
        Some(json!({ "last_day": "2026-03-02", "reason": "fin de la prise en charge" })),
    );
    assert_eq!(st, 200, "{v}");
    s.advance(TimeDelta::hours(15));
    let dr = login(&s, "dr");
    s.advance(TimeDelta::seconds(30));
    let ide2 = login(&s, "ide");
    drop(ide);
    assert_eq!(push(&s, &p, 1), 403, "closed: refused");
    let stored = s.state.storage().count_entry_versions(p.id).unwrap();

    // Refusals change nothing: a nurse, no reason, a reason over 200 characters, an unknown
    // field.
    let (st, v) = send(&s, "POST", &ide2, &reopening, why("erreur"));
    assert_eq!((st, v["error"].as_str()), (403, Some("forbidden")), "{v}");
    for body in [
        json!({ "reason": "  " }),
        json!({ "reason": "é".repeat(201) }),
        json!({ "reason": "erreur", "at": "2026-03-01T00:00:00Z" }),
        json!({}),
    ] {
        let (st, v) = send(&s, "POST", &dr, &reopening, Some(body.clone()));
        assert_eq!(st, 400, "{body}: {v}");
    }
    assert!(s.state.storage().record_status(p.id).unwrap().is_closed());
    assert!(s.state.storage().monitoring_gaps(p.id).unwrap().is_empty());

    // The physician reopens it (200 characters is the limit).
    let reason = format!("clôturée par erreur {}", "x".repeat(180));
    assert_eq!(reason.chars().count(), 200);
    let reopened_at = s.now();
    let (st, v) = send(&s, "POST", &dr, &reopening, why(&reason));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["closure"].clone(), v["restriction"].clone()),
        (Value::Null, Value::Null)
    );
    let gaps = s.state.storage().monitoring_gaps(p.id).unwrap();
    assert_eq!(gaps.len(), 1);
    let g = &gaps[0];
    assert_eq!(g.last_day, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    assert_eq!(
        g.from,
        "2026-03-02T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(
        (g.until, g.reopen_reason.as_str()),
        (reopened_at, reason.as_str())
    );
    assert_eq!(g.closure_reason, "fin de la prise en charge");
    let audit = s.state.storage().audit_log(100).unwrap();
    let a = audit
        .iter()
        .find(|r| r.action == "reopen-monitoring")
        .expect("audited");
    assert_eq!(a.patient_id, Some(p.id));
    assert_eq!(a.detail.as_ref().unwrap()["reason"], reason.as_str());
    assert_eq!(a.detail.as_ref().unwrap()["closed_on"], "2026-03-02");

    // Twice: nothing to reopen.
    let (st, _) = send(&s, "POST", &dr, &reopening, why("encore"));
    assert_eq!(st, 400);

    // The device's batches are stored again; the triage shows the patient again.
    assert_eq!(push(&s, &p, 2), 200);
    assert_eq!(
        s.state.storage().count_entry_versions(p.id).unwrap(),
        stored + 2
    );
    let (_, triage) = send(&s, "GET", &dr, "/v1/operator/triage", None);
    assert!(triage.to_string().contains(&p.id.to_string()), "{triage}");

    // The retention clock is cleared: 21 years on, the open record is kept whole.
    let later = s.now() + TimeDelta::days(366 * 21);
    let n = ilot_server::retention::apply(s.state.storage(), later).unwrap();
    assert_eq!(n.patients, 0, "{n:?}");
    assert!(s.state.storage().patient(p.id).unwrap().is_some());

    // It may be ended again, and reopened again: each reopening is kept.
    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &format!("/v1/operator/patients/{}/closure", p.id),
        Some(json!({ "last_day": "2026-03-03", "reason": "fin" })),
    );
    assert_eq!(st, 200, "{v}");
    let (st, _) = send(&s, "POST", &dr, &reopening, why("encore une erreur"));
    assert_eq!(st, 200);
    assert_eq!(s.state.storage().monitoring_gaps(p.id).unwrap().len(), 2);
}

#[test]
fn a_telesurveillance_ended_by_mistake_reopens_on_sqlite() {
    reopens_on("sqlite::memory:");
}

#[test]
fn a_telesurveillance_ended_by_mistake_reopens_on_postgresql() {
    reopens_on(&ilot_testpg::fresh_database("reopen"));
}

/// Readings every 15 minutes from 1 March 2026 (Paris) to `s.now()`, stored as the device's.
fn feed(s: &Srv, p: &Enrolled, seq: u64, from: DateTime<Utc>, days: i64) {
    let now = s.now();
    let items = cgm(from, days, seq as i64 * 100_000, now);
    for (i, chunk) in items.chunks(5_000).enumerate() {
        s.state
            .storage()
            .ingest(&IngestBatch {
                patient_id: p.id,
                device_id: p.device,
                seq: seq + i as u64,
                digest: BatchDigest::from_bytes([(seq + i as u64) as u8; 32]),
                items: chunk,
                consent: (seq == 1 && i == 0).then_some(ConsentChange {
                    granted: true,
                    at: from,
                    notice_version: 2,
                }),
                now,
            })
            .unwrap();
    }
}

// Periods: 1 (1–30 March), 2 (31 March–29 April), 3 (30 April–29 May), 4 (30 May–28 June).
// Ended on 10 April (in period 2) and reopened on 20 April (still period 2): period 2 holds
// unmonitored days and is not billable, whatever its data; periods 1 and 3 keep their dates and
// their own verdicts.
#[test]
fn the_days_between_the_end_and_the_reopening_are_not_billed() {
    let s = start();
    let dr = login(&s, "dr");
    let p = enrolled(&s, &dr, "P1");
    let start: DateTime<Utc> = "2026-02-28T23:00:00Z".parse().unwrap();
    s.advance(TimeDelta::days(41));
    let dr = login(&s, "dr");
    feed(&s, &p, 1, start, 41);
    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &format!("/v1/operator/patients/{}/closure", p.id),
        Some(json!({ "last_day": "2026-04-10", "reason": "fin de la prise en charge" })),
    );
    assert_eq!(st, 200, "{v}");
    s.advance(TimeDelta::days(8));
    let dr = login(&s, "dr");
    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &format!("/v1/operator/patients/{}/reopening", p.id),
        Some(json!({ "reason": "clôturée par erreur" })),
    );
    assert_eq!(st, 200, "{v}");
    // The device sends everything it kept, then goes on until 14 June.
    s.advance(TimeDelta::days(55));
    let dr = login(&s, "dr");
    feed(&s, &p, 10, start + TimeDelta::days(41), 104 - 41);

    let (st, v) = send(
        &s,
        "GET",
        &dr,
        &format!("/v1/operator/patients/{}/periods", p.id),
        None,
    );
    assert_eq!(st, 200, "{v}");
    let periods = v["periods"].as_array().unwrap();
    let first_days: Vec<&str> = periods
        .iter()
        .map(|p| p["first_day"].as_str().unwrap())
        .collect();
    assert_eq!(
        first_days,
        ["2026-03-01", "2026-03-31", "2026-04-30", "2026-05-30"],
        "the cadence does not move"
    );
    let not_monitored = |i: usize| {
        periods[i]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("not-monitored"))
    };
    assert!(!not_monitored(0) && not_monitored(1) && !not_monitored(2) && !not_monitored(3));
    assert_eq!(periods[1]["billable"], false);
    assert_eq!(periods[1]["series"], Value::Null);
    assert_eq!(periods[1]["last_day"], "2026-04-29", "no longer cut short");
    assert_eq!(periods[2]["billable"], true, "{}", periods[2]);
    // The month's table says the same.
    let (st, month) = send(&s, "GET", &dr, "/v1/operator/billing?month=2026-04", None);
    assert_eq!(st, 200, "{month}");
    let rows = month["rows"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["first_day"] == "2026-03-31")
        .expect("period 2 in April's table");
    assert_eq!(row["billable"], false, "{row}");
}

/// The record's history on the patient page: close → reopen → close → reopen by two physicians
/// of the team gives two interruptions, oldest first, with the days not monitored, who ended
/// and reopened it (name and role) and why; the nurse reads them; another team's operator
/// reaches none of it, through the patient's route or any list.
fn history_on(db: &str) {
    let s = start_with_on(
        db,
        &[
            ("dr", CareRole::Physician, "A"),
            ("dr2", CareRole::Physician, "A"),
            ("ide", CareRole::Nurse, "A"),
            ("other", CareRole::Physician, "B"),
        ],
    );
    let dr = login(&s, "dr");
    let p = enrolled(&s, &dr, "P1");
    let page = format!("/v1/operator/patients/{}", p.id);
    let closure = format!("{page}/closure");
    let reopening = format!("{page}/reopening");
    let (st, v) = send(&s, "GET", &dr, &page, None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["record"]["interruptions"], json!([]), "none yet");

    // dr ends it on 2 March (Paris); dr2 reopens it two days later.
    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &closure,
        Some(json!({ "last_day": "2026-03-02", "reason": "fin de la prise en charge" })),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["interruptions"],
        json!([]),
        "a closure is not an interruption yet"
    );
    let closed_1 = s.now();
    s.advance(TimeDelta::days(2));
    let dr2 = login(&s, "dr2");
    let reopened_1 = s.now();
    let (st, first) = send(
        &s,
        "POST",
        &dr2,
        &reopening,
        Some(json!({ "reason": "clôturée par erreur" })),
    );
    assert_eq!(st, 200, "{first}");
    assert_eq!(
        first["interruptions"].as_array().unwrap().len(),
        1,
        "{first}"
    );

    // dr2 ends it again on 5 March; dr reopens it three days later.
    s.advance(TimeDelta::days(1));
    let dr2 = login(&s, "dr2");
    let (st, v) = send(
        &s,
        "POST",
        &dr2,
        &closure,
        Some(json!({ "last_day": "2026-03-05", "reason": "hospitalisation" })),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["interruptions"], first["interruptions"], "{v}");
    let closed_2 = s.now();
    s.advance(TimeDelta::days(3));
    let dr = login(&s, "dr");
    let reopened_2 = s.now();
    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &reopening,
        Some(json!({ "reason": "retour à domicile" })),
    );
    assert_eq!(st, 200, "{v}");

    let physician = |name: &str| json!({ "name": name, "role": "physician" });
    let expected = json!([
        {
            "last_day": "2026-03-02", "first_day_off": "2026-03-03",
            "from": "2026-03-02T23:00:00Z", "until": reopened_1,
            "reopened_on": "2026-03-04",
            "closure_reason": "fin de la prise en charge", "closed_by": physician("dr"),
            "closure_recorded_at": closed_1,
            "reopen_reason": "clôturée par erreur", "reopened_by": physician("dr2")
        },
        {
            "last_day": "2026-03-05", "first_day_off": "2026-03-06",
            "from": "2026-03-05T23:00:00Z", "until": reopened_2,
            "reopened_on": "2026-03-08",
            "closure_reason": "hospitalisation", "closed_by": physician("dr2"),
            "closure_recorded_at": closed_2,
            "reopen_reason": "retour à domicile", "reopened_by": physician("dr")
        }
    ]);
    assert_eq!(v["interruptions"], expected, "the reopening's answer");
    // The nurse reads the same history on the patient's page, with the record's status.
    let ide = login(&s, "ide");
    let (st, v) = send(&s, "GET", &ide, &page, None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["record"]["interruptions"], expected, "{v}");
    assert_eq!(v["record"]["closure"], Value::Null);
    // The OpenAPI document names exactly these fields, all required.
    let doc: Value = Client::new()
        .get(format!("{}/openapi.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let item =
        &doc["components"]["schemas"]["RecordStatus"]["properties"]["interruptions"]["items"];
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let mut required: Vec<String> = serde_json::from_value(item["required"].clone()).unwrap();
    required.sort();
    assert_eq!(required, keys(&v["record"]["interruptions"][0]), "{item}");
    assert_eq!(keys(&item["properties"]), required, "{item}");

    // Another team's operator reaches none of it: the patient's routes answer 404 without it,
    // and no list it reads holds the patient or a reason. The same lists read by the team show
    // the patient (the check can fail).
    let other = login(&s, "other");
    let secrets = [
        "fin de la prise en charge",
        "clôturée par erreur",
        "hospitalisation",
        "retour à domicile",
    ];
    let id = p.id.to_string();
    for (method, path, body) in [
        ("GET", page.clone(), None),
        ("POST", reopening.clone(), Some(json!({ "reason": "x" }))),
        (
            "POST",
            closure.clone(),
            Some(json!({ "last_day": "2026-03-08", "reason": "x" })),
        ),
        (
            "PUT",
            format!("{page}/restriction"),
            Some(json!({ "restricted": true, "reason": "x" })),
        ),
    ] {
        let (st, v) = send(&s, method, &other, &path, body);
        assert_eq!(st, 404, "{method} {path}: {v}");
        let text = v.to_string();
        assert!(secrets.iter().all(|r| !text.contains(r)), "{path}: {text}");
    }
    let mut team_sees = String::new();
    for path in [
        "/v1/operator/patients",
        "/v1/operator/triage",
        "/v1/operator/triage?closed=true",
        "/v1/operator/alerts",
        "/v1/operator/audit",
        "/v1/operator/billing?month=2026-03",
    ] {
        let (_, v) = send(&s, "GET", &other, path, None);
        let text = v.to_string();
        assert!(
            !text.contains(&id) && secrets.iter().all(|r| !text.contains(r)),
            "{path}: {text}"
        );
        team_sees.push_str(&send(&s, "GET", &dr, path, None).1.to_string());
    }
    assert!(team_sees.contains(&id), "{team_sees}");
    // Nothing changed for the team.
    let (_, v) = send(&s, "GET", &dr, &page, None);
    assert_eq!(v["record"]["interruptions"], expected);
    assert_eq!(v["record"]["restriction"], Value::Null);
}

#[test]
fn the_record_history_shows_each_interruption_on_sqlite() {
    history_on("sqlite::memory:");
}

#[test]
fn the_record_history_shows_each_interruption_on_postgresql() {
    history_on(&ilot_testpg::fresh_database("reopen_history"));
}
