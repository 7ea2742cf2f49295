//! The end of telesurveillance through the real HTTP server: only a physician closes, with a
//! last day that is neither in the future nor before inclusion and a reason; from the end of
//! that day the device's sealed push is refused with `monitoring_ended` and nothing is stored,
//! no new care act is taken, the triage and the patient list hide the record unless asked for
//! closed ones, the patient page shows the closure and its last care, and billing (ilot-rules'
//! `observance::billing` over the stored entries) starts no billable period after it.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{Entry, EntryKind, Glucose, GlucoseReading, Source};
use ilot_server::storage::IngestBatch;
use ilot_wire::api::{EnrolRequest, EnrolResponse, SEALED_MEDIA_TYPE, paths};
use ilot_wire::{
    BatchDigest, BatchHeader, ConsentChange, DeviceId, DeviceSecret, OpenBatch, PatientId,
    SessionKeys, WireEntry, WireOp, seal,
};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::*;

pub(crate) struct Enrolled {
    pub(crate) id: PatientId,
    pub(crate) device: DeviceId,
    pub(crate) keys: SessionKeys,
}

/// A patient of `token`'s team (prescription from 1 March 2026) with a device enrolled through
/// `/v1/enrol`, whose keys the test holds to seal batches.
pub(crate) fn enrolled(s: &Srv, token: &str, pseudonym: &str) -> Enrolled {
    let r: Value = Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(token)
        .json(&json!({ "pseudonym": pseudonym, "prescription": prescription() }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id: PatientId = r["patient_id"].as_str().unwrap().parse().unwrap();
    let secret = DeviceSecret::generate(&mut rand::rng());
    let resp: EnrolResponse = Client::new()
        .post(format!("{}{}", s.url, paths::ENROL))
        .json(&EnrolRequest {
            replaces: None,
            code: r["code"].as_str().unwrap().parse().unwrap(),
            device_public_key: secret.public_key(),
            device_label: None,
            app_version: "test".into(),
        })
        .send()
        .unwrap()
        .json()
        .unwrap();
    Enrolled {
        id,
        device: resp.device_id,
        keys: resp.session_keys(&secret, None).unwrap(),
    }
}

/// 15-minute CGM readings from `from` for `days` days, numbered from `first`.
pub(crate) fn cgm(
    from: DateTime<Utc>,
    days: i64,
    first: i64,
    now: DateTime<Utc>,
) -> Vec<WireEntry> {
    readings(from, days * 96, first, now)
}

/// `n` 15-minute CGM readings from `from`, numbered from `first`.
pub(crate) fn readings(
    from: DateTime<Utc>,
    n: i64,
    first: i64,
    now: DateTime<Utc>,
) -> Vec<WireEntry> {
    (0..n)
        .map(|k| {
            let at = from + TimeDelta::minutes(15 * k);
            WireEntry {
                id: first + k,
                version: 1,
                op: WireOp::Insert,
                recorded_at: now,
                entry: Entry::new(
                    at.fixed_offset(),
                    Source::manual(),
                    EntryKind::Glucose(GlucoseReading::cgm(
                        Glucose::from_mg_dl(110.0 + (k % 7) as f64).unwrap(),
                    )),
                    now,
                )
                .unwrap(),
                reason: None,
            }
        })
        .collect()
}

pub(crate) fn send(
    s: &Srv,
    method: &str,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", s.url))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ending_telesurveillance_closes_the_record_to_devices_care_acts_and_the_triage() {
    let s = start();
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = enrolled(&s, &dr, "P1");
    let other = enrolled(&s, &dr, "P2");
    let closure = format!("/v1/operator/patients/{}/closure", p.id);
    let today = s.now().date_naive();
    let body = |day: NaiveDate, reason: &str| Some(json!({ "last_day": day, "reason": reason }));

    // Refusals change nothing.
    let (st, v) = send(&s, "POST", &ide, &closure, body(today, "fin"));
    assert_eq!(st, 403, "a nurse: {v}");
    for (day, reason) in [
        (today + TimeDelta::days(1), "fin"),
        (NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(), "fin"),
        (today, "   "),
        (today, &"x".repeat(501)),
    ] {
        let (st, v) = send(&s, "POST", &dr, &closure, body(day, reason));
        assert_eq!(st, 400, "{day} {:?}: {v}", &reason[..reason.len().min(8)]);
    }
    assert!(!s.state.storage().record_status(p.id).unwrap().is_closed());

    // Closed today: it ends at the end of today in Paris (2 March 2026, UTC+1).
    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &closure,
        body(today, "fin de la prescription"),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["closure"]["last_day"], "2026-03-02");
    assert_eq!(v["closure"]["ends_at"], "2026-03-02T23:00:00Z");
    assert_eq!(v["closure"]["last_care_at"], "2026-03-02T23:00:00Z");
    assert_eq!(v["restriction"], Value::Null);
    let (st, v) = send(&s, "POST", &dr, &closure, body(today, "encore"));
    assert_eq!(
        (st, v["error"].as_str()),
        (403, Some("monitoring_ended")),
        "twice"
    );
    let (_, page) = send(
        &s,
        "GET",
        &dr,
        &format!("/v1/operator/patients/{}", p.id),
        None,
    );
    assert_eq!(
        page["record"]["closure"]["reason"],
        "fin de la prescription"
    );
    let audit = s.state.storage().audit_log(100).unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.action == "close-monitoring" && r.patient_id == Some(p.id)),
        "the closure is audited"
    );

    // Still its last day: the device's batch is stored. From the end of the day: refused.
    let push = |seq: u64, at: DateTime<Utc>| {
        let b = OpenBatch::new(
            BatchHeader::new(p.id, p.device, seq, at),
            readings(at - TimeDelta::minutes(30), 2, seq as i64 * 1000, at),
        );
        let bytes = seal(&b, &p.keys.to_server, &mut rand::rng())
            .unwrap()
            .into_bytes();
        let r = Client::new()
            .post(format!("{}{}", s.url, paths::PUSH))
            .header("content-type", SEALED_MEDIA_TYPE)
            .body(bytes)
            .send()
            .unwrap();
        let st = r.status().as_u16();
        (st, r.bytes().unwrap())
    };
    let (st, _) = push(1, s.now());
    assert_eq!(st, 200);
    let stored = s.state.storage().count_entry_versions(p.id).unwrap();
    assert_eq!(stored, 2);
    s.advance(TimeDelta::hours(15));
    let (st, body_bytes) = push(2, s.now());
    // The sessions ended meanwhile (idle): log in again.
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let err: Value = serde_json::from_slice(&body_bytes).unwrap();
    assert_eq!(st, 403, "{err}");
    assert_eq!(err["error"], "monitoring_ended");
    assert!(err["message"].as_str().unwrap().contains("ended"), "{err}");
    assert_eq!(
        s.state.storage().count_entry_versions(p.id).unwrap(),
        stored,
        "nothing stored after the end"
    );

    // No new care act; reads stay possible.
    let feed_before = s.state.storage().feed(p.id, 0, 100).unwrap().len();
    for (method, path, body) in [
        ("POST", "messages", json!({ "text": "bonjour" })),
        (
            "PUT",
            "prescription",
            json!({ "prescription": prescription() }),
        ),
        (
            "POST",
            "appointments",
            json!({ "kind": "education", "starts_at": "2026-03-10T09:00:00Z",
                    "duration_min": 30, "mode": "phone" }),
        ),
        ("POST", "enrolment-code", Value::Null),
    ] {
        let path = format!("/v1/operator/patients/{}/{path}", p.id);
        let b = (!body.is_null()).then_some(body);
        let (st, v) = send(&s, method, &dr, &path, b);
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("monitoring_ended")),
            "{path}: {v}"
        );
    }
    assert_eq!(
        s.state.storage().feed(p.id, 0, 100).unwrap().len(),
        feed_before
    );
    let (st, _) = send(
        &s,
        "GET",
        &ide,
        &format!("/v1/operator/patients/{}/summary", p.id),
        None,
    );
    assert_eq!(st, 200);

    // The triage and the list show it only among the closed ones.
    let triage = |q: &str| {
        let (st, v) = send(&s, "GET", &dr, &format!("/v1/operator/triage{q}"), None);
        assert_eq!(st, 200, "{v}");
        v["items"].clone()
    };
    assert_eq!(ids(&triage(""), "patient_id"), [other.id.to_string()]);
    let closed = triage("?closed=true");
    assert_eq!(ids(&closed, "patient_id"), [p.id.to_string()]);
    assert_eq!(closed[0]["closed_on"], "2026-03-02");
    let (_, list) = send(&s, "GET", &dr, "/v1/operator/patients", None);
    assert_eq!(ids(&list, "id"), [other.id.to_string()]);
    let (_, list) = send(&s, "GET", &dr, "/v1/operator/patients?closed=true", None);
    assert_eq!(ids(&list, "id"), [p.id.to_string()]);
    assert_eq!(list[0]["closed_on"], "2026-03-02");
}

#[test]
fn no_billable_period_starts_after_the_end_of_telesurveillance() {
    let s = start();
    let dr = login(&s, "dr");
    let p = enrolled(&s, &dr, "P1");
    // Readings every 15 minutes from 1 March to 14 May 2026 (Paris), consent given.
    s.advance(TimeDelta::days(74));
    let dr = login(&s, "dr");
    let now = s.now();
    let start: DateTime<Utc> = "2026-02-28T23:00:00Z".parse().unwrap();
    let items = cgm(start, 74, 1, now);
    for (i, chunk) in items.chunks(5_000).enumerate() {
        s.state
            .storage()
            .ingest(&IngestBatch {
                patient_id: p.id,
                device_id: p.device,
                seq: i as u64 + 1,
                digest: BatchDigest::from_bytes([i as u8 + 1; 32]),
                items: chunk,
                consent: (i == 0).then_some(ConsentChange {
                    granted: true,
                    at: start,
                    notice_version: 1,
                }),
                now,
            })
            .unwrap();
    }
    let periods_path = format!("/v1/operator/patients/{}/periods", p.id);
    let periods = || {
        let (st, v) = send(&s, "GET", &dr, &periods_path, None);
        assert_eq!(st, 200, "{v}");
        v["periods"].as_array().unwrap().clone()
    };
    let day = |v: &Value, k: &str| v[k].as_str().unwrap().parse::<NaiveDate>().unwrap();
    let before = periods();
    assert_eq!(
        before.len(),
        3,
        "1–30 March, 31 March–29 April, 30 April–29 May"
    );
    assert!(before.iter().all(|p| p["prescribed"] == true));

    // Ended on 10 April: the monitoring stopped then, whatever the device sent after.
    let last_day = NaiveDate::from_ymd_opt(2026, 4, 10).unwrap();
    let (st, v) = send(
        &s,
        "POST",
        &dr,
        &format!("/v1/operator/patients/{}/closure", p.id),
        Some(json!({ "last_day": last_day, "reason": "fin de la prise en charge" })),
    );
    assert_eq!(st, 200, "{v}");
    let after = periods();
    let prescribed: Vec<&Value> = after.iter().filter(|p| p["prescribed"] == true).collect();
    assert_eq!(prescribed.len(), 2, "{after:?}");
    assert_eq!(
        day(prescribed[1], "first_day"),
        NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
    );
    assert_eq!(
        day(prescribed[1], "last_day"),
        last_day,
        "period 2 cut short"
    );
    for p in &after {
        if day(p, "first_day") > last_day {
            assert_eq!(p["billable"], false, "{p}");
            assert_eq!(p["prescribed"], false, "{p}");
            assert!(
                p["reasons"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("no-prescription")),
                "{p}"
            );
        }
    }
    assert!(
        after.iter().any(|p| day(p, "first_day") > last_day),
        "the data sent after the end is listed, not billable: {after:?}"
    );
    // The month's table says the same: nothing billable starts in May.
    let (st, month) = send(&s, "GET", &dr, "/v1/operator/billing?month=2026-05", None);
    assert_eq!(st, 200, "{month}");
    for r in month["rows"].as_array().unwrap() {
        if day(r, "first_day") > last_day {
            assert_eq!(r["billable"], false, "{r}");
        }
    }
}
