//! The console's patient page on a real server: the AGP and metrics are ilot-rules' over the
//! stored points (checked against numbers the test knows from the data it stored), daily curves
//! page back in time with their treatments, the logbook walks a large patient page by page
//! (every capillary reading once, in order, never a sensor reading, values as entered, earlier
//! versions shown), the feed says what reached the device, the access log is the physician's,
//! queries out of range are refused, and the storage answers alike on every backend.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{
    Carbs, Entry, EntryKind, Glucose, GlucoseLevel, GlucoseReading, GlucoseUnit, HypoEvent,
    InsulinDelivery, InsulinDose, InsulinKind, MealContext, ReadingType, Source,
};
use ilot_server::storage::{DeviceRow, EntryCursor, IngestBatch, Storage};
use ilot_wire::{BatchDigest, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::*;

struct Patient {
    id: PatientId,
    device: DeviceId,
    seq: std::cell::Cell<u64>,
}

/// A patient of `token`'s team with an enrolled device (registered as the enrolment does).
fn patient(s: &Srv, token: &str, name: &str) -> Patient {
    let r: Value = Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(token)
        .json(&json!({"pseudonym": name, "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id: PatientId = r["patient_id"].as_str().unwrap().parse().unwrap();
    let code: String = r["code"].as_str().unwrap().replace('-', "").to_uppercase();
    let dev = DeviceRow {
        id: DeviceId::from_bytes(*id.as_bytes()),
        patient_id: id,
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: None,
        enrolled_at: s.now(),
        last_batch_seq: None,
    };
    s.state
        .storage()
        .redeem_code(&code, &dev, s.now())
        .unwrap()
        .unwrap();
    Patient {
        id,
        device: dev.id,
        seq: std::cell::Cell::new(0),
    }
}

fn wire(id: i64, version: u32, op: WireOp, kind: EntryKind, at: DateTime<Utc>) -> WireEntry {
    WireEntry {
        id,
        version,
        op,
        recorded_at: at,
        entry: Entry::new(at.fixed_offset(), Source::manual(), kind, at).unwrap(),
        reason: None,
    }
}

fn cgm(v: f64) -> EntryKind {
    EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(v).unwrap()))
}

fn capillary(mmol: f64) -> EntryKind {
    EntryKind::Glucose(GlucoseReading::new(
        GlucoseLevel::Value(Glucose::new(mmol, GlucoseUnit::MmolPerLitre).unwrap()),
        ReadingType::Capillary,
        MealContext::Fasting,
    ))
}

/// Stores `items` as the device would send them, in batches of 5,000.
fn push(s: &Srv, p: &Patient, items: &[WireEntry]) {
    for chunk in items.chunks(5_000) {
        p.seq.set(p.seq.get() + 1);
        s.state
            .storage()
            .ingest(&IngestBatch {
                patient_id: p.id,
                device_id: p.device,
                seq: p.seq.get(),
                digest: BatchDigest::from_bytes([p.seq.get() as u8; 32]),
                items: chunk,
                consent: None,
                now: s.now(),
            })
            .unwrap();
    }
}

fn get(s: &Srv, token: &str, path: &str) -> (u16, Value) {
    let r = Client::new()
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn ok(s: &Srv, token: &str, path: &str) -> Value {
    let (st, v) = get(s, token, path);
    assert_eq!(st, 200, "{path}: {v}");
    v
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 1e-9
}

#[test]
fn the_summary_is_the_agp_and_metrics_of_the_stored_points_with_the_change() {
    let s = start();
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    // 28 days of 5-minute CGM up to now: the older 14 days all at 120 mg/dL; the last 14 days
    // one reading in ten at 60, one in ten at 200, the rest at 120.
    let now = s.now();
    let n = 28 * 288;
    let items: Vec<WireEntry> = (0..n)
        .map(|i| {
            let at = now - TimeDelta::minutes(5 * (n - i) as i64);
            let recent = i >= n / 2;
            let v = match (recent, i % 10) {
                (true, 0) => 60.0,
                (true, 1) => 200.0,
                _ => 120.0,
            };
            wire(i as i64, 1, WireOp::Insert, cgm(v), at)
        })
        .collect();
    push(&s, &p, &items);
    let v = ok(&s, &dr, &format!("/v1/operator/patients/{}/summary", p.id));
    assert_eq!(v["days"], 14);
    let m = &v["metrics"];
    // 4,032 readings: 403 at 60 (i % 10 == 0) and 403 at 200 (i % 10 == 1).
    assert_eq!(m["n_readings"], 14 * 288);
    assert!(close(&m["below_70_percent"], 403.0 / 4032.0 * 100.0), "{m}");
    assert!(
        close(&m["above_180_percent"], 403.0 / 4032.0 * 100.0),
        "{m}"
    );
    assert!(close(&m["tir_percent"], 3226.0 / 4032.0 * 100.0), "{m}");
    let prev = &v["previous"];
    assert_eq!(prev["n_readings"], 14 * 288);
    assert!(close(&prev["tir_percent"], 100.0), "{prev}");
    assert!(close(&prev["mean_mg_dl"], 120.0), "{prev}");
    // 96 bins of 15 minutes, each ilot-rules' AGP of the same points in the patient's zone;
    // at every time of day the median is 120.
    let recent: Vec<&WireEntry> = items[n / 2..].iter().collect();
    let data = ilot_rules::Loaded::from_entries(recent.iter().map(|w| (w.id as u64, &w.entry)));
    let rules = ilot_rules::agp::agp(
        &data.glucose,
        ilot_rules::metrics::Window::new(now - TimeDelta::days(14), now),
        chrono_tz::Europe::Paris,
        15,
    );
    let agp = v["agp"].as_array().unwrap();
    assert_eq!(agp.len(), 96);
    assert_eq!(rules.bins.len(), 96);
    let mg = |l: ilot_rules::Level| match l {
        ilot_rules::Level::MgDl(v) => json!(v),
        _ => Value::Null,
    };
    for (b, r) in agp.iter().zip(&rules.bins) {
        assert_eq!(b["p50"]["mg_dl"], 120.0, "{b}");
        let p = r.percentiles.unwrap();
        assert_eq!(b["minute"], r.start_minute, "{b}");
        assert_eq!(b["n"], r.n, "{b}");
        assert_eq!(b["p5"]["mg_dl"], mg(p.p5), "{b}");
        assert_eq!(b["p25"]["mg_dl"], mg(p.p25), "{b}");
        assert_eq!(b["p75"]["mg_dl"], mg(p.p75), "{b}");
        assert_eq!(b["p95"]["mg_dl"], mg(p.p95), "{b}");
    }
    assert!(
        agp.iter()
            .any(|b| b["p5"]["mg_dl"].as_f64().unwrap() < 120.0),
        "the lows show"
    );
    assert_eq!(v["target"], json!({"low_mg_dl": 70.0, "high_mg_dl": 180.0}));
    // And 90 days: the same readings, counted over the longer window.
    let v = ok(
        &s,
        &dr,
        &format!("/v1/operator/patients/{}/summary?days=90", p.id),
    );
    assert_eq!(v["metrics"]["n_readings"], n);
    for bad in ["days=5", "days=x"] {
        let (st, e) = get(
            &s,
            &dr,
            &format!("/v1/operator/patients/{}/summary?{bad}", p.id),
        );
        assert_eq!(st, 400, "{bad}: {e}");
        assert_eq!(e["error"], "bad_request", "{e}");
    }
}

#[test]
fn daily_curves_page_back_in_time_with_the_treatments_underneath() {
    let s = start();
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    let now = s.now();
    // 10 days of hourly CGM, an insulin dose, a meal and a hypo report on the 3rd day back.
    let mut items: Vec<WireEntry> = (0..240)
        .map(|i| {
            wire(
                i,
                1,
                WireOp::Insert,
                cgm(110.0),
                now - TimeDelta::hours(240 - i),
            )
        })
        .collect();
    let day3 = now - TimeDelta::days(3);
    items.push(wire(
        1_000,
        1,
        WireOp::Insert,
        EntryKind::Insulin(
            InsulinDose::new(6.5, InsulinKind::Bolus, InsulinDelivery::Pen).unwrap(),
        ),
        day3,
    ));
    items.push(wire(
        1_001,
        1,
        WireOp::Insert,
        EntryKind::Carbs(Carbs::new(45.0, None).unwrap()),
        day3,
    ));
    items.push(wire(
        1_002,
        1,
        WireOp::Insert,
        EntryKind::Hypo(HypoEvent {
            symptoms: vec![],
            treatment: None,
            needed_help: true,
            glucose: None,
        }),
        day3 + TimeDelta::minutes(30),
    ));
    push(&s, &p, &items);
    let mut until: Option<String> = None;
    let (mut points, mut events, mut pages, mut dates) = (0, Vec::new(), 0, Vec::new());
    loop {
        let q = until
            .as_ref()
            .map_or(String::new(), |u| format!("&until={u}"));
        let v = ok(
            &s,
            &dr,
            &format!("/v1/operator/patients/{}/days?days=4{q}", p.id),
        );
        pages += 1;
        for d in v["days"].as_array().unwrap() {
            dates.push(d["date"].as_str().unwrap().to_string());
            points += d["glucose"].as_array().unwrap().len();
            events.extend(d["events"].as_array().unwrap().iter().cloned());
        }
        match v["earlier"].as_str() {
            Some(e) => until = Some(e.to_string()),
            None => break,
        }
        assert!(pages < 10, "the pages never end");
    }
    assert_eq!(points, 240, "every reading once");
    assert_eq!(pages, 3, "11 local days in pages of 4: {dates:?}");
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted, dates, "newest first, each day once");
    let kinds: Vec<(&str, Value)> = events
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["amount"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("insulin", json!(6.5)),
            ("carbs", json!(45.0)),
            ("hypo", Value::Null)
        ]
    );
    assert_eq!(events[0]["detail"], "bolus");
    assert_eq!(events[2]["detail"], "needed-help");
    for bad in [
        "days=15",
        "days=0",
        "until=1899-12-31",
        "until=1900-01-03&days=7",
        "until=x",
    ] {
        let (st, e) = get(
            &s,
            &dr,
            &format!("/v1/operator/patients/{}/days?{bad}", p.id),
        );
        assert_eq!(st, 400, "{bad}: {e}");
    }
}

#[test]
fn the_logbook_walks_a_large_patient_page_by_page_with_corrections_visible() {
    let s = start();
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "BIG");
    let now = s.now();
    // 60,000 sensor readings (208 days at 5 minutes) and 400 capillary readings in mmol/L
    // among them, some at the very same millisecond as a sensor reading.
    let n = 60_000i64;
    let mut items: Vec<WireEntry> = Vec::with_capacity(n as usize + 400);
    for i in 0..n {
        items.push(wire(
            i,
            1,
            WireOp::Insert,
            cgm(100.0),
            now - TimeDelta::minutes(5 * (n - i)),
        ));
    }
    let cap_at = |k: i64| now - TimeDelta::minutes(5 * (n - k * 150));
    for k in 0..400 {
        let mmol = 4.0 + (k % 50) as f64 / 10.0;
        items.push(wire(
            100_000 + k,
            1,
            WireOp::Insert,
            capillary(mmol),
            cap_at(k),
        ));
    }
    push(&s, &p, &items);
    // Reading 7 corrected (4.7 → 6.3 mmol/L), reading 8 deleted.
    push(
        &s,
        &p,
        &[
            wire(100_007, 2, WireOp::Update, capillary(6.3), cap_at(7)),
            wire(100_008, 2, WireOp::Delete, capillary(4.8), cap_at(8)),
        ],
    );
    let mut cursor: Option<String> = None;
    let mut seen: Vec<Value> = Vec::new();
    let mut pages = 0;
    loop {
        let q = cursor
            .as_ref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let v = ok(
            &s,
            &dr,
            &format!("/v1/operator/patients/{}/logbook?limit=37{q}", p.id),
        );
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 37);
        seen.extend(items.iter().cloned());
        pages += 1;
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 100, "the pages never end");
    }
    assert!(pages >= 11, "{pages} pages for 400 entries of 37");
    let ids: Vec<i64> = seen
        .iter()
        .map(|e| e["entry_id"].as_i64().unwrap())
        .collect();
    let want: Vec<i64> = (100_000..100_400).rev().collect();
    assert_eq!(
        ids, want,
        "every capillary reading once, newest first, no sensor reading"
    );
    let by_id = |id: i64| seen.iter().find(|e| e["entry_id"] == id).unwrap();
    // Values as the patient entered them: mmol/L stays mmol/L.
    let e = by_id(100_003);
    let glucose = &e["entry"]["kind"]["level"];
    assert_eq!(glucose["glucose"]["unit"], "mmol/L", "{e}");
    assert!(close(&glucose["glucose"]["value"], 4.3), "{e}");
    assert_eq!(e["entry"]["kind"]["context"], "fasting");
    assert_eq!(e["history"], json!([]));
    let corrected = by_id(100_007);
    assert_eq!(corrected["version"], 2);
    assert!(close(
        &corrected["entry"]["kind"]["level"]["glucose"]["value"],
        6.3
    ));
    let h = corrected["history"].as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert!(close(
        &h[0]["entry"]["kind"]["level"]["glucose"]["value"],
        4.7
    ));
    let deleted = by_id(100_008);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["history"].as_array().unwrap().len(), 1);
    for bad in ["limit=0", "limit=201", "cursor=zz", "cursor=31"] {
        let (st, e) = get(
            &s,
            &dr,
            &format!("/v1/operator/patients/{}/logbook?{bad}", p.id),
        );
        assert_eq!(st, 400, "{bad}: {e}");
    }
}

#[test]
fn the_feed_shows_what_the_team_sent_and_whether_the_device_has_it() {
    let s = start();
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    for text in ["Bonjour", "Pensez au capteur"] {
        let r = Client::new()
            .post(format!("{}/v1/operator/patients/{}/messages", s.url, p.id))
            .bearer_auth(&ide)
            .json(&json!({ "text": text }))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let path = format!("/v1/operator/patients/{}/feed?kind=message", p.id);
    let v = ok(&s, &ide, &path);
    let items = v["items"].as_array().unwrap();
    let texts: Vec<&str> = items
        .iter()
        .map(|i| i["item"]["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Bonjour", "Pensez au capteur"]);
    assert!(items.iter().all(|i| i["delivered"] == false));
    assert_eq!(v["next_cursor"], Value::Null);
    // The device pulls and applies up to the first message: that one is delivered.
    let first = items[0]["cursor"].as_u64().unwrap();
    s.state.storage().record_pull(p.device, first).unwrap();
    // An older cursor (a replayed request) never takes the receipt back.
    s.state.storage().record_pull(p.device, 0).unwrap();
    let v = ok(&s, &ide, &path);
    let delivered: Vec<bool> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["delivered"].as_bool().unwrap())
        .collect();
    assert_eq!(delivered, [true, false]);
    // The prescription the patient was created with is in the feed too.
    let v = ok(
        &s,
        &ide,
        &format!(
            "/v1/operator/patients/{}/feed?kind=prescription&limit=1",
            p.id
        ),
    );
    assert_eq!(v["items"][0]["item"]["prescription"]["version"], 1);
    for bad in [
        "",
        "?kind=nope",
        "?kind=message&cursor=-1",
        "?kind=message&limit=0",
    ] {
        let (st, _) = get(
            &s,
            &ide,
            &format!("/v1/operator/patients/{}/feed{bad}", p.id),
        );
        assert_eq!(st, 400, "{bad}");
    }
}

#[test]
fn only_a_physician_reads_who_accessed_the_patients_data() {
    let s = start();
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    ok(&s, &ide, &format!("/v1/operator/patients/{}/logbook", p.id));
    let path = format!("/v1/operator/patients/{}/audit", p.id);
    let (st, e) = get(&s, &ide, &path);
    assert_eq!(st, 403, "{e}");
    let v = ok(&s, &dr, &format!("{path}?limit=2"));
    let items = v["items"].as_array().unwrap();
    // Newest first: the physician's reading of the log, then the nurse's logbook read.
    assert_eq!(items[0]["action"], "read-patient-audit");
    assert_eq!(items[0]["operator"], "dr");
    assert_eq!(items[1]["action"], "read-logbook");
    assert_eq!(items[1]["operator"], "ide");
    let next = v["next_cursor"].as_str().expect("more: the creation");
    let v = ok(&s, &dr, &format!("{path}?cursor={next}"));
    let actions: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"create-patient"), "{actions:?}");
    assert!(
        !actions.contains(&"read-logbook"),
        "no row twice: {actions:?}"
    );
}

#[test]
fn an_acknowledgement_with_the_console_cookie_needs_the_csrf_token() {
    let s = start();
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    let st = s.state.storage();
    let policy = st.prescription(p.id).unwrap().unwrap().prescription.policy;
    let al = ilot_rules::alerts::no_data(&policy, Some(t0()), t0() + TimeDelta::hours(49)).unwrap();
    st.upsert_alerts(p.id, &[al], t0()).unwrap();
    let alert = st.alerts(Some(p.id), true).unwrap()[0].id;
    s.advance(TimeDelta::seconds(30));
    let r = Client::new()
        .post(format!("{}/v1/console/login", s.url))
        .json(&json!({"username": "dr", "password": PASSWORD, "totp": s.code("dr")}))
        .send()
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = r.json::<Value>().unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let ack = |token: Option<&str>| {
        let mut b = Client::new()
            .post(format!("{}/v1/operator/alerts/{alert}/ack", s.url))
            .header("cookie", &cookie)
            .json(&json!({"note": "appelé, capteur changé"}));
        if let Some(t) = token {
            b = b.header("x-csrf-token", t);
        }
        b.send().unwrap().status().as_u16()
    };
    assert_eq!(ack(None), 403);
    assert!(st.alert(alert).unwrap().unwrap().acknowledged_at.is_none());
    let feed = st.feed(p.id, 0, 100).unwrap().len();
    assert_eq!(ack(Some(&csrf)), 200);
    let a = st.alert(alert).unwrap().unwrap();
    assert_eq!(a.note.as_deref(), Some("appelé, capteur changé"));
    assert_eq!(
        st.feed(p.id, 0, 100).unwrap().len(),
        feed + 1,
        "queued for the device"
    );
}

#[test]
fn every_backend_pages_entries_back_in_time_alike() {
    for (name, st, _dir) in crate::conformance::backends() {
        let st: &dyn Storage = &*st;
        let p = patient_at(st, 3, t0());
        let dev = DeviceRow {
            id: DeviceId::from_bytes([0x33; 16]),
            patient_id: p,
            public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
            label: None,
            enrolled_at: t0(),
            last_batch_seq: None,
        };
        st.add_enrolment_code("PAGECODE", p, t0() + TimeDelta::hours(1))
            .unwrap();
        st.redeem_code("PAGECODE", &dev, t0()).unwrap().unwrap();
        // Ten entries, two of them at the same millisecond (ids 4 and 5).
        let items: Vec<WireEntry> = (0..10)
            .map(|i| {
                let at = t0() - TimeDelta::minutes(10 - if i == 5 { 4 } else { i });
                wire(i, 1, WireOp::Insert, cgm(100.0 + i as f64), at)
            })
            .chain([wire(
                3,
                2,
                WireOp::Update,
                cgm(150.0),
                t0() - TimeDelta::minutes(7),
            )])
            .collect();
        st.ingest(&IngestBatch {
            patient_id: p,
            device_id: dev.id,
            seq: 1,
            digest: BatchDigest::from_bytes([1; 32]),
            items: &items,
            consent: None,
            now: t0(),
        })
        .unwrap();
        let mut order = Vec::new();
        let mut at = None;
        loop {
            let page = st.entries_before(p, at, 3).unwrap();
            if page.is_empty() {
                break;
            }
            for e in &page {
                order.push((e.entry_id, e.version));
            }
            let last = page.last().unwrap();
            at = Some(EntryCursor {
                at: last.entry.at_utc(),
                device_id: last.device_id,
                entry_id: last.entry_id,
            });
        }
        assert_eq!(
            order,
            [
                (9, 1),
                (8, 1),
                (7, 1),
                (6, 1),
                (5, 1),
                (4, 1),
                (3, 2),
                (2, 1),
                (1, 1),
                (0, 1)
            ],
            "{name}"
        );
        let v = st.entry_versions(p, dev.id, 3).unwrap();
        assert_eq!(
            v.iter().map(|e| e.version).collect::<Vec<_>>(),
            [1, 2],
            "{name}"
        );
        assert!(
            st.entry_versions(PatientId::from_bytes([9; 16]), dev.id, 3)
                .unwrap()
                .is_empty()
        );
        assert_eq!(st.pulled_cursor(p).unwrap(), None, "{name}");
        st.record_pull(dev.id, 12).unwrap();
        st.record_pull(dev.id, 4).unwrap();
        assert_eq!(st.pulled_cursor(p).unwrap(), Some(12), "{name}");
        st.audit(1, "read-logbook", Some(p), t0()).unwrap();
        let log = st.patient_audit(p, None, 10).unwrap();
        assert_eq!(log[0].0.action, "read-logbook", "{name}");
        assert!(
            st.patient_audit(p, Some(log[0].0.id), 10)
                .unwrap()
                .iter()
                .all(|(a, _)| a.id < log[0].0.id)
        );
    }
}

#[test]
fn a_prescription_change_is_the_physicians_and_a_refused_one_says_why_and_changes_nothing() {
    let s = start();
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    let put = |token: &str, rx: &ilot_domain::Prescription| {
        let r = Client::new()
            .put(format!(
                "{}/v1/operator/patients/{}/prescription",
                s.url, p.id
            ))
            .bearer_auth(token)
            .json(&json!({ "prescription": rx }))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let version = || {
        s.state
            .storage()
            .prescription(p.id)
            .unwrap()
            .unwrap()
            .version
    };
    let mut rx = prescription();
    rx.policy.hyper_mg_dl = 260.0;
    assert_eq!(put(&ide, &rx).0, 403, "a nurse does not prescribe");
    assert_eq!(version(), 1);
    let mut wrong = prescription();
    wrong.policy.hypo_l2_mg_dl = 75.0;
    let (st, e) = put(&dr, &wrong);
    assert_eq!(st, 400, "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("hypo level 2 (75 mg/dL) must be below hypo level 1 (70 mg/dL)"),
        "{msg}"
    );
    assert_eq!(version(), 1, "nothing saved");
    let (st, v) = put(&dr, &rx);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["version"], 2);
    let feed = ok(
        &s,
        &ide,
        &format!("/v1/operator/patients/{}/feed?kind=prescription", p.id),
    );
    let versions: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["item"]["prescription"]["version"])
        .collect();
    assert_eq!(
        versions,
        [&json!(1), &json!(2)],
        "the device pulls version 2"
    );
}
