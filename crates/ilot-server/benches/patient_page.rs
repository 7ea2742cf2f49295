//! The console's patient page: the time a real server (in process, SQLite file, loopback HTTP)
//! takes to answer everything the page asks when it opens — the patient, the summary (14 days,
//! the page's default), the first page of daily curves (7 days), the first logbook page, the
//! messages, appointments and prescription versions, the alerts, the devices, the access log —
//! and the 90-day summary (AGP + metrics of 90 days and of the 90 before), for a patient with 90 days
//! of 5-minute CGM (25,920 readings) plus 4 finger pricks, 3 insulin doses and 3 meals a day.
//! Baseline in the same run: the same requests for a patient with no entry (the request
//! path: session, care-team check, audit record, JSON). Times are measured at the client on
//! loopback, so they include the HTTP round trip.
//!
//! Run: `cargo bench -p ilot-server --bench patient_page` (ILOT_BENCH_RUNS to change the runs).

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{
    Carbs, Entry, EntryKind, Glucose, GlucoseLevel, GlucoseReading, GlucoseUnit, InsulinDelivery,
    InsulinDose, InsulinKind, MealContext, ReadingType, Source,
};
use ilot_server::storage::{DeviceRow, IngestBatch};
use ilot_server::{AppState, Config};
use ilot_wire::{BatchDigest, CareRole, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp};
use reqwest::blocking::Client;
use serde_json::{Value, json};

const DAYS: i64 = 90;

fn entries(now: DateTime<Utc>) -> Vec<WireEntry> {
    let mut out = Vec::new();
    let mut id = 0;
    let mut push = |kind: EntryKind, at: DateTime<Utc>| {
        id += 1;
        out.push(WireEntry {
            id,
            version: 1,
            op: WireOp::Insert,
            recorded_at: at,
            entry: Entry::new(at.fixed_offset(), Source::manual(), kind, now).unwrap(),
            reason: None,
        });
    };
    let start = now - TimeDelta::days(DAYS);
    for i in 0..DAYS * 288 {
        let at = start + TimeDelta::minutes(5 * i);
        let mg = 60.0 + ((i * 7) % 200) as f64;
        push(
            EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg).unwrap())),
            at,
        );
    }
    for d in 0..DAYS {
        let day = start + TimeDelta::days(d);
        for h in [7, 12, 19, 22] {
            let g = Glucose::new(5.0 + (h as f64) / 10.0, GlucoseUnit::MmolPerLitre).unwrap();
            push(
                EntryKind::Glucose(GlucoseReading::new(
                    GlucoseLevel::Value(g),
                    ReadingType::Capillary,
                    MealContext::Other,
                )),
                day + TimeDelta::hours(h),
            );
        }
        for h in [7, 12, 19] {
            push(
                EntryKind::Insulin(
                    InsulinDose::new(6.0, InsulinKind::Bolus, InsulinDelivery::Pen).unwrap(),
                ),
                day + TimeDelta::hours(h),
            );
            push(
                EntryKind::Carbs(Carbs::new(60.0, None).unwrap()),
                day + TimeDelta::hours(h),
            );
        }
    }
    out.sort_by_key(|e| e.entry.at_utc());
    out
}

fn main() {
    let runs: usize = std::env::var("ILOT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let key = ilot_server::atrest::ServerKey::from_bytes(&zeroize::Zeroizing::new([9; 32]));
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    let state = AppState::new(
        ilot_server::storage::open(&db, &key).unwrap(),
        Config::new(url.clone()),
    )
    .unwrap();
    rt.spawn(ilot_server::serve(state.clone(), listener));
    let st = state.storage();
    let now = Utc::now();
    let team = st.create_team("A", now).unwrap();
    let hash = ilot_server::auth::hash_password("bench password long enough").unwrap();
    let op = st
        .create_operator("dr", "Dr Bench", CareRole::Physician, &hash, now)
        .unwrap();
    st.set_operator_team(op, team).unwrap();
    let secret = ilot_server::totp::TotpSecret::generate();
    st.set_totp_secret(op, &secret).unwrap();
    let http = Client::new();
    let login: Value = http
        .post(format!("{url}/v1/operator/login"))
        .json(
            &json!({"username": "dr", "password": "bench password long enough",
                      "totp": secret.code_at(now.timestamp() as u64).to_string()}),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let rx = ilot_domain::Prescription::new(
        ilot_domain::DiabetesType::Type1,
        ilot_domain::Monitoring::Cgm,
        4,
        (now - TimeDelta::days(DAYS + 1)).date_naive(),
    );
    let patient = |name: &str| -> (PatientId, DeviceId) {
        let r: Value = http
            .post(format!("{url}/v1/operator/patients"))
            .bearer_auth(&token)
            .json(&json!({"pseudonym": name, "prescription": rx}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let id: PatientId = r["patient_id"].as_str().unwrap().parse().unwrap();
        let code = r["code"].as_str().unwrap().replace('-', "").to_uppercase();
        let dev = DeviceRow {
            id: DeviceId::from_bytes(*id.as_bytes()),
            patient_id: id,
            public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
            label: None,
            enrolled_at: now,
            last_batch_seq: None,
        };
        st.redeem_code(&code, &dev, now).unwrap().unwrap();
        (id, dev.id)
    };
    let (full, device) = patient("FULL");
    let (empty, _) = patient("EMPTY");
    let items = entries(now);
    for (i, chunk) in items.chunks(5_000).enumerate() {
        st.ingest(&IngestBatch {
            patient_id: full,
            device_id: device,
            seq: i as u64 + 1,
            digest: BatchDigest::from_bytes([i as u8; 32]),
            items: chunk,
            consent: None,
            now,
        })
        .unwrap();
    }
    ilot_server::rules::evaluate_after_ingest(st, full, now - TimeDelta::days(DAYS), now).unwrap();
    // What the console asks when the page opens (the summary's default is 14 days), then the
    // 90-day summary a clinician switches to.
    const PATHS: [&str; 11] = [
        "",
        "/summary",
        "/days?days=7",
        "/logbook",
        "/feed?kind=message",
        "/feed?kind=appointment",
        "/feed?kind=prescription",
        "/alerts",
        "/devices",
        "/audit",
        "/summary?days=90",
    ];
    const OPENING: usize = 10;
    let mut per_path = vec![Vec::new(); PATHS.len()];
    let mut page = |id: PatientId, record: bool| -> (f64, f64) {
        let mut opening = 0.0;
        let mut ninety = 0.0;
        for (i, path) in PATHS.iter().enumerate() {
            let one = Instant::now();
            let r = http
                .get(format!("{url}/v1/operator/patients/{id}{path}"))
                .bearer_auth(&token)
                .send()
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let _ = r.bytes().unwrap();
            let ms = one.elapsed().as_secs_f64() * 1e3;
            if record {
                per_path[i].push(ms);
            }
            if i < OPENING {
                opening += ms;
            } else {
                ninety = ms;
            }
        }
        (opening, ninety)
    };
    // Warm up both (connection, statement caches).
    page(full, false);
    page(empty, false);
    let (mut a, mut b, mut a90, mut b90) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let (o, n) = page(full, true);
        a.push(o);
        a90.push(n);
        let (o, n) = page(empty, false);
        b.push(o);
        b90.push(n);
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    println!(
        "patient page, {} entries ({DAYS} days of 5-minute CGM + 4 finger pricks, 3 insulin doses, 3 meals a day), {runs} runs, ms at the client on loopback:",
        items.len()
    );
    for (what, l, e) in [
        (
            "opening the page (10 requests, 14-day summary)",
            &mut a,
            &mut b,
        ),
        (
            "the 90-day summary (AGP + metrics, 90 days and the 90 before)",
            &mut a90,
            &mut b90,
        ),
    ] {
        let (l50, l95, e50, e95) = (pct(l, 0.5), pct(l, 0.95), pct(e, 0.5), pct(e, 0.95));
        println!(
            "  {what}: loaded p50 {l50:.1} p95 {l95:.1}; baseline (empty patient, same requests) p50 {e50:.1} p95 {e95:.1}; ratio p50 {:.1}x p95 {:.1}x",
            l50 / e50,
            l95 / e95
        );
    }
    for (path, mut t) in PATHS.iter().zip(per_path) {
        println!(
            "    loaded {:<24} p50 {:.1} ms",
            if path.is_empty() { "/" } else { path },
            pct(&mut t, 0.5)
        );
    }
}
