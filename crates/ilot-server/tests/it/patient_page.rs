//! The console's patient page on a real server: the AGP and metrics are ilot-rules' over the
//! stored points (checked against numbers the test knows from the data it stored), daily curves
//! page back in time with their treatments, the logbook walks a large patient page by page
//! (every capillary reading once, in order, never a sensor reading, values as entered, earlier
//! versions shown), queries out of range are refused, and the storage answers alike on every
//! backend. Rights and what reaches the device: `patient_rights.rs`.

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

pub(crate) struct Patient {
    pub id: PatientId,
    pub device: DeviceId,
    seq: std::cell::Cell<u64>,
}

/// A patient of `token`'s team with an enrolled device (registered as the enrolment does).
pub(crate) fn patient(s: &Srv, token: &str, name: &str) -> Patient {
    let (id, code) = create_patient(s, token, name);
    let code = code.replace('-', "").to_uppercase();
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

pub(crate) fn wire(
    id: i64,
    version: u32,
    op: WireOp,
    kind: EntryKind,
    at: DateTime<Utc>,
) -> WireEntry {
    WireEntry {
        id,
        version,
        op,
        recorded_at: at,
        entry: Entry::new(at.fixed_offset(), Source::manual(), kind, at).unwrap(),
        reason: None,
    }
}

pub(crate) fn cgm(v: f64) -> EntryKind {
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
pub(crate) fn push(s: &Srv, p: &Patient, items: &[WireEntry]) {
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

pub(crate) fn get(s: &Srv, token: &str, path: &str) -> (u16, Value) {
    let r = Client::new()
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

pub(crate) fn ok(s: &Srv, token: &str, path: &str) -> Value {
    let (st, v) = get(s, token, path);
    assert_eq!(st, 200, "{path}: {v}");
    v
}

pub(crate) fn close(a: &Value, b: f64) -> bool {
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
