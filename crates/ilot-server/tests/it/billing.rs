//! Observance per period and the monthly billing table through the real HTTP server: the
//! reasons a period is not billable come from stored entries and consent; only physicians
//! read the billing table (nurses read a patient's periods); the CSV is what a French
//! spreadsheet opens as is (BOM, `;`, decimal comma, CRLF, quoted pseudonyms) and says what
//! the JSON says.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{EducationSession, Entry, EntryKind, Glucose, GlucoseReading, Source};
use ilot_server::storage::{IngestBatch, IngestOutcome};
use ilot_wire::{BatchDigest, ConsentChange, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::*;

/// Creates a patient (prescription from 1 March 2026, type 1 on CGM) and enrols a device.
fn patient(s: &Srv, token: &str, pseudonym: &str) -> (PatientId, DeviceId) {
    let (id, code) = create_patient(s, token, pseudonym);
    let enrol = ilot_wire::api::EnrolRequest {
        replaces: None,
        code: code.parse().unwrap(),
        device_public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        device_label: None,
        app_version: "test".into(),
    };
    let r: Value = Client::new()
        .post(format!("{}/v1/enrol", s.url))
        .json(&enrol)
        .send()
        .unwrap()
        .json()
        .unwrap();
    (id, r["device_id"].as_str().unwrap().parse().unwrap())
}

/// 15-minute CGM readings for the 30 days of period 1 (1–30 March 2026, Paris), plus an
/// education session on 3 March when `session`.
fn period_one(session: bool, now: DateTime<Utc>) -> Vec<WireEntry> {
    let start: DateTime<Utc> = "2026-02-28T23:00:00Z".parse().unwrap();
    let mut entries: Vec<Entry> = (0..30 * 96)
        .map(|k| {
            let at = start + TimeDelta::minutes(15 * k);
            let g = Glucose::from_mg_dl(110.0 + (k % 7) as f64).unwrap();
            Entry::new(
                at.fixed_offset(),
                Source::manual(),
                EntryKind::Glucose(GlucoseReading::cgm(g)),
                now,
            )
            .unwrap()
        })
        .collect();
    if session {
        let at: DateTime<Utc> = "2026-03-03T10:00:00Z".parse().unwrap();
        let e = EducationSession::new(vec!["insulin".into()]).unwrap();
        entries.push(
            Entry::new(
                at.fixed_offset(),
                Source::manual(),
                EntryKind::Education(e),
                now,
            )
            .unwrap(),
        );
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| WireEntry {
            id: i as i64 + 1,
            version: 1,
            op: WireOp::Insert,
            recorded_at: now,
            entry,
            reason: None,
        })
        .collect()
}

fn ingest(s: &Srv, p: PatientId, d: DeviceId, items: &[WireEntry], consent: bool) {
    let at = s.now();
    let out = s
        .state
        .storage()
        .ingest(&IngestBatch {
            patient_id: p,
            device_id: d,
            seq: 1,
            digest: BatchDigest::from_bytes([3; 32]),
            items,
            consent: consent.then_some(ConsentChange {
                granted: true,
                at,
                notice_version: 1,
            }),
            now: at,
        })
        .unwrap();
    assert!(matches!(out, IngestOutcome::Stored(_)), "{out:?}");
}

fn get(s: &Srv, token: &str, path: &str) -> reqwest::blocking::Response {
    Client::new()
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap()
}

struct World {
    s: Srv,
    dr: String,
    ide: String,
    /// Consented, data, education: billable.
    good: PatientId,
    /// Consented, data, no education: not billable (no accompaniment).
    no_session: PatientId,
    /// Never consented, no data.
    silent: PatientId,
}

fn world() -> World {
    let s = start();
    s.advance(TimeDelta::days(30)); // 1 April 2026, 10:00 Paris: period 1 is over.
    let dr = login(&s, "dr");
    let ide = login(&s, "ide");
    let good = patient(&s, &dr, "Dupont; \"Jo\"");
    let no_session = patient(&s, &dr, "Martin");
    let silent = patient(&s, &dr, "Zoé");
    ingest(&s, good.0, good.1, &period_one(true, s.now()), true);
    ingest(
        &s,
        no_session.0,
        no_session.1,
        &period_one(false, s.now()),
        true,
    );
    World {
        dr,
        ide,
        good: good.0,
        no_session: no_session.0,
        silent: silent.0,
        s,
    }
}

fn row(t: &Value, p: PatientId) -> &Value {
    let rows: Vec<&Value> = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["patient_id"] == p.to_string())
        .collect();
    assert_eq!(rows.len(), 1, "{t}");
    rows[0]
}

#[test]
fn each_period_says_whether_it_is_billable_and_why() {
    let w = world();
    let r = get(&w.s, &w.dr, "/v1/operator/billing?month=2026-03");
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    assert_eq!(t["month"], "2026-03");
    let good = row(&t, w.good);
    assert_eq!(good["billable"], true, "{good}");
    assert_eq!(good["reasons"], json!([]));
    assert_eq!(
        (good["first_day"].as_str(), good["last_day"].as_str()),
        (Some("2026-03-01"), Some("2026-03-30"))
    );
    // A 15-minute CGM at full wear is sufficient: 30 × (67.2 + 4) = 2,136 expected. Period 1
    // is 30 local days, 719 hours (clocks go forward on 29 March): of the 2,880 readings sent
    // (720 hours from its first midnight), the last 4 belong to period 2.
    assert_eq!(good["received"], 2876);
    assert!(
        (good["expected"].as_f64().unwrap() - 2136.0).abs() < 1e-6,
        "{good}"
    );
    assert_eq!(good["ratio"], 1.0);
    assert_eq!(
        (
            good["operator_cents"].as_u64(),
            good["technical_cents"].as_u64()
        ),
        (Some(2800), Some(5000))
    );
    assert_eq!(good["series"]["first_period"], 1);
    let martin = row(&t, w.no_session);
    assert_eq!(
        (martin["billable"].as_bool(), &martin["reasons"]),
        (Some(false), &json!(["no-accompaniment"]))
    );
    assert_eq!(martin["operator_cents"], 0);
    assert_eq!(martin["series"], Value::Null);
    let silent = row(&t, w.silent);
    assert_eq!(
        silent["reasons"],
        json!(["no-consent", "interrupted", "no-accompaniment"])
    );
    assert_eq!(
        t["totals"],
        json!({ "periods": 3, "billable": 1, "operator_cents": 2800, "technical_cents": 5000 })
    );
    // April holds no period's last day yet (period 2 ends on 29 April, still in progress…
    // which is due in April): it is shown in progress.
    let april: Value = get(&w.s, &w.dr, "/v1/operator/billing").json().unwrap();
    assert_eq!(april["month"], "2026-04");
    assert_eq!(row(&april, w.good)["reasons"], json!(["in-progress"]));

    // The patient's own periods, for nurses too, with the same verdict.
    let r = get(
        &w.s,
        &w.ide,
        &format!("/v1/operator/patients/{}/periods", w.no_session),
    );
    assert_eq!(r.status(), 200);
    let p: Value = r.json().unwrap();
    assert_eq!(p["periods"][0]["reasons"], json!(["no-accompaniment"]));
    assert_eq!(p["periods"][1]["reasons"], json!(["in-progress"]));
    assert_eq!(p["accompaniment"]["status"], "missed");
    assert_eq!(p["series"], json!([]));
    let audit = w.s.state.storage().audit_log(1000).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "read-periods" && a.patient_id == Some(w.no_session))
    );
    let billing = audit.iter().find(|a| a.action == "read-billing").unwrap();
    let detail = billing.detail.as_ref().unwrap().to_string();
    assert!(detail.contains(&w.silent.to_string()), "{detail}");
}

#[test]
fn only_physicians_read_the_billing_table() {
    let w = world();
    for path in [
        "/v1/operator/billing",
        "/v1/operator/billing.csv?month=2026-03",
    ] {
        let r = get(&w.s, &w.ide, path);
        assert_eq!(r.status(), 403, "{path}");
        let e: Value = r.json().unwrap();
        assert_eq!(e["error"], "forbidden", "{e}");
        assert_eq!(get(&w.s, &w.dr, path).status(), 200, "{path}");
    }
    for bad in ["2026-13", "2026-3", "march", "1999-12"] {
        let r = get(&w.s, &w.dr, &format!("/v1/operator/billing?month={bad}"));
        assert_eq!(r.status(), 400, "{bad}");
        assert!(
            r.json::<Value>().unwrap()["message"]
                .as_str()
                .unwrap()
                .contains("YYYY-MM")
        );
    }
}

#[test]
fn the_csv_opens_in_a_french_spreadsheet_and_says_what_the_json_says() {
    let w = world();
    let r = get(&w.s, &w.dr, "/v1/operator/billing.csv?month=2026-03");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("ilot-facturation-2026-03.csv")
    );
    let bytes = r.bytes().unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.ends_with("\r\n"));
    assert_eq!(
        text.matches("\r\n").count(),
        4,
        "header + 3 rows, CRLF each:\n{text}"
    );
    assert_eq!(text.matches('\n').count(), 4, "no bare LF");
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("Patient;INS;"), "{header}");
    // A pseudonym holding `;` and quotes is quoted, its quotes doubled.
    assert!(text.contains("\r\n\"Dupont; \"\"Jo\"\"\";;"), "{text}");
    assert!(text.contains("\r\nZoé;"), "accents as UTF-8");

    let t: Value = get(&w.s, &w.dr, "/v1/operator/billing?month=2026-03")
        .json()
        .unwrap();
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let head: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {head:?}"))
    };
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let rows = t["rows"].as_array().unwrap();
    assert_eq!(records.len(), rows.len());
    for (rec, row) in records.iter().zip(rows) {
        assert_eq!(rec.len(), head.len());
        assert_eq!(&rec[col("Patient")], row["pseudonym"].as_str().unwrap());
        assert_eq!(
            &rec[col("Identifiant patient")],
            row["patient_id"].as_str().unwrap()
        );
        assert_eq!(&rec[col("Début")], row["first_day"].as_str().unwrap());
        assert_eq!(&rec[col("Fin")], row["last_day"].as_str().unwrap());
        assert_eq!(&rec[col("Reçu")], row["received"].to_string());
        let billable = row["billable"].as_bool().unwrap();
        assert_eq!(
            &rec[col("Facturable")],
            if billable { "oui" } else { "non" }
        );
        let euros = |c: &Value| {
            format!(
                "{},{:02}",
                c.as_u64().unwrap() / 100,
                c.as_u64().unwrap() % 100
            )
        };
        assert_eq!(
            &rec[col("Forfait opérateur (€)")],
            euros(&row["operator_cents"])
        );
        assert_eq!(
            &rec[col("Forfait technique (€)")],
            euros(&row["technical_cents"])
        );
        assert_eq!(
            &rec[col("Forfait opérateur (code)")],
            if billable { "TVB" } else { "" }
        );
    }
    let good = records
        .iter()
        .find(|r| r[col("Patient")].starts_with("Dupont"))
        .unwrap();
    // Decimal commas: 30 × (0.7 × 1440 / 15 + 4) = 2136 expected; 100 % observance.
    assert_eq!(&good[col("Attendu")], "2136,0");
    assert_eq!(&good[col("Observance (%)")], "100,0");
    assert_eq!(&good[col("Total (€)")], "78,00");
    assert_eq!(&good[col("Série n°")], "1");
    let zoe = records
        .iter()
        .find(|r| &r[col("Patient")] == "Zoé")
        .unwrap();
    assert_eq!(
        &zoe[col("Motif")],
        "pas de consentement, interrompue (aucune donnée), accompagnement du premier mois non fait"
    );
    let audit = w.s.state.storage().audit_log(1000).unwrap();
    assert!(audit.iter().any(|a| a.action == "export-billing"));
}

#[test]
fn a_withdrawal_recorded_in_consultation_stops_billing_from_its_date() {
    let w = world();
    // 30 May 2026: periods 1 (March), 2 (to 29 April) and 3 (to 29 May) are over.
    w.s.advance(TimeDelta::days(59));
    let ide = login(&w.s, "ide"); // the sessions of the world ended with the days
    let path = format!("/v1/operator/patients/{}/periods", w.good);
    let reasons = |i: usize| {
        let p: Value = get(&w.s, &ide, &path).json().unwrap();
        p["periods"][i]["reasons"].clone()
    };
    assert_eq!(reasons(0), json!([]), "period 1 billable");
    let no_consent = |v: &Value| v.as_array().unwrap().contains(&json!("no-consent"));
    assert!(!no_consent(&reasons(2)), "{}", reasons(2));
    // The nurse records the patient's withdrawal, given in consultation on 2 April.
    let r = Client::new()
        .post(format!(
            "{}/v1/operator/patients/{}/consent",
            w.s.url, w.good
        ))
        .bearer_auth(&ide)
        .json(
            &json!({ "decision": "withdrawn", "notice_version": 2, "at": "2026-04-02T08:00:00Z" }),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    // Period 1 stays billable; period 3, started after the withdrawal, is not: no consent.
    assert_eq!(reasons(0), json!([]));
    assert!(no_consent(&reasons(2)), "{}", reasons(2));
    // Period 2 began before the withdrawal: consent is not its reason.
    assert!(!no_consent(&reasons(1)), "{}", reasons(1));
}
