//! The triage list for a large care team, through the real request path: 2,000 patients
//! (`ILOT_BENCH_PATIENTS`) with 14 days of 5-minute CGM each (the glucose values of real
//! recordings, ../shared/data/cgm/Hall2018_processed.csv, laid on a regular 5-minute clock
//! ending an hour ago), stored through `Storage::ingest` (so the daily summaries are those the
//! ingest writes) in an SQLite file (or, with `ILOT_BENCH_DB=postgres`, a database of a
//! throwaway PostgreSQL cluster with its durable defaults, `ilot_testpg::Cluster::start_durable`,
//! vacuumed and analysed after the ingest), served by `ilot_server::serve` on a loopback port,
//! asked by a logged-in operator: `GET /v1/operator/triage?days=14` (first page of 50, which
//! computes every patient's category and the page's observance).
//!
//! Baseline in the same run: the same request, same server and database, by an operator of a
//! care team without patients (the empty list: session, audit record, JSON). Times are the
//! client's wall time on loopback, so they include the server's whole answer. Requests of the
//! two kinds alternate; p50 and p95 of 60 each after 5 of each to warm up.
//!
//! Then the same for `GET /v1/operator/patients` (every patient in one answer, and since V13 one
//! access-log link per patient listed), and the audit record of a list of every patient with
//! its links against the same record without them (the links' own cost), alternating.
//!
//! Run: `cargo bench -p ilot-server --bench triage` (SQLite);
//! `ILOT_BENCH_DB=postgres cargo bench -p ilot-server --bench triage` (PostgreSQL).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{
    DiabetesType, Entry, EntryKind, Glucose, GlucoseReading, Monitoring, Prescription, Source,
    SourceKind,
};
use ilot_server::storage::{
    AuditEvent, DeviceRow, IngestBatch, IngestOutcome, NewPatient, Storage,
};
use ilot_server::totp::TotpSecret;
use ilot_server::{AppState, Config};
use ilot_wire::{
    BatchDigest, CareRole, CareTeamMember, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp,
};

const READINGS: usize = 14 * 288;
const PASSWORD: &str = "a long enough password";

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The glucose values of each Hall 2018 subject, in time order.
fn recordings() -> Vec<Vec<f64>> {
    let path = format!(
        "{}/../../../shared/data/cgm/Hall2018_processed.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut by: std::collections::BTreeMap<String, Vec<(String, f64)>> = Default::default();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').map(|x| x.trim_matches('"')).collect();
        if f.len() == 3
            && f[1] != "NA"
            && let Ok(v) = f[2].parse::<f64>()
        {
            by.entry(f[0].to_string())
                .or_default()
                .push((f[1].to_string(), v));
        }
    }
    by.into_values()
        .map(|mut r| {
            r.sort_by(|a, b| a.0.cmp(&b.0));
            r.into_iter().map(|(_, v)| v).collect()
        })
        .collect()
}

fn readings(values: &[f64], offset: usize, end: DateTime<Utc>) -> Vec<WireEntry> {
    let sensor = ilot_domain::DeviceId::new("Dexcom G6 SN 8QX2").unwrap();
    (0..READINGS)
        .map(|i| {
            let at = (end - TimeDelta::minutes(5 * (READINGS - 1 - i) as i64)).fixed_offset();
            let mg = values[(offset + i) % values.len()];
            let e = Entry::new(
                at,
                Source::device(SourceKind::Cgm, sensor.clone(), i as u32),
                EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg).unwrap())),
                end,
            )
            .unwrap();
            WireEntry {
                id: i as i64,
                version: 1,
                op: WireOp::Insert,
                recorded_at: end,
                entry: e,
                reason: None,
            }
        })
        .collect()
}

fn patient(s: &dyn Storage, team: i64, n: u32, at: DateTime<Utc>) -> (PatientId, DeviceId) {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&n.to_be_bytes());
    let id = PatientId::from_bytes(b);
    let dr = CareTeamMember {
        name: "Dr Martin".into(),
        role: CareRole::Physician,
    };
    let start = (at - TimeDelta::days(20)).date_naive();
    let p = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, start);
    let new = NewPatient {
        pseudonym: format!("P{n:05}"),
        ins: None,
        tz: chrono_tz::Europe::Paris,
        prescription: p,
    };
    s.create_patient(&new, id, &dr, at).unwrap();
    s.set_patient_team(id, team).unwrap();
    let code = format!("BENCH{n}");
    s.add_enrolment_code(&code, id, at + TimeDelta::hours(1))
        .unwrap();
    b[4] = 1;
    let dev = DeviceRow {
        id: DeviceId::from_bytes(b),
        patient_id: id,
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: None,
        enrolled_at: at,
        last_batch_seq: None,
    };
    assert_eq!(s.redeem_code(&code, &dev, at).unwrap(), Ok(id));
    (id, dev.id)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let k = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[k]
}

fn main() {
    let n: u32 = std::env::var("ILOT_BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    // The PostgreSQL cluster (when asked for) lives until the end of the bench.
    let (backend, url, cluster) = match std::env::var("ILOT_BENCH_DB").as_deref() {
        Ok("postgres") => {
            let c = ilot_testpg::Cluster::start_durable().expect("a PostgreSQL cluster");
            let url = c.fresh_database("triage").unwrap();
            ("PostgreSQL, durable", url, Some(c))
        }
        Ok("sqlite") | Err(std::env::VarError::NotPresent) => (
            "SQLite file",
            format!("sqlite:{}", dir.path().join("server.db").display()),
            None,
        ),
        Ok(other) => panic!("ILOT_BENCH_DB must be sqlite (default) or postgres, not {other:?}"),
        Err(e) => panic!("ILOT_BENCH_DB: {e}"),
    };
    let key = ilot_server::atrest::ServerKey::from_bytes(&zeroize::Zeroizing::new([7; 32]));
    let storage = ilot_server::storage::open(&url, &key).unwrap();
    let t = now();
    let team = storage.create_team("A", t).unwrap();
    let empty = storage.create_team("empty", t).unwrap();
    let values = recordings();
    let started = Instant::now();
    let end = t - TimeDelta::hours(1);
    for k in 0..n {
        let (p, d) = patient(storage.as_ref(), team, k, t);
        let items = readings(&values[k as usize % values.len()], k as usize * 37, end);
        for (seq, chunk) in items.chunks(500).enumerate() {
            let out = storage
                .ingest(&IngestBatch {
                    patient_id: p,
                    device_id: d,
                    seq: seq as u64 + 1,
                    digest: BatchDigest::from_bytes([seq as u8; 32]),
                    items: chunk,
                    consent: None,
                    now: t,
                })
                .unwrap();
            assert!(matches!(out, IngestOutcome::Stored(_)));
        }
    }
    let setup = started.elapsed();
    eprintln!(
        "setup: {n} patients × {READINGS} readings ingested in {:.1} s ({:.0} readings/s, daily summaries included)",
        setup.as_secs_f64(),
        f64::from(n) * READINGS as f64 / setup.as_secs_f64()
    );
    if cluster.is_some() {
        // As autovacuum would after such an ingest, but before timing rather than during it.
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute("VACUUM ANALYZE").unwrap();
    }

    let hash = ilot_server::auth::hash_password(PASSWORD).unwrap();
    let mut secrets = Vec::new();
    for (user, team) in [("dr", team), ("empty", empty)] {
        let id = storage
            .create_operator(user, user, CareRole::Physician, &hash, t)
            .unwrap();
        storage.set_operator_team(id, team).unwrap();
        let s = TotpSecret::generate();
        storage.set_totp_secret(id, &s).unwrap();
        secrets.push(s);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config::new(base.clone());
    config.clock = Arc::new(Utc::now);
    let state = AppState::new(storage, config).unwrap();
    rt.spawn(ilot_server::serve(state.clone(), listener));
    let client = reqwest::blocking::Client::new();
    let tokens: Vec<String> = ["dr", "empty"]
        .iter()
        .zip(&secrets)
        .map(|(user, s)| {
            let code = s.code_at(Utc::now().timestamp() as u64).to_string();
            let r: serde_json::Value = client
                .post(format!("{base}/v1/operator/login"))
                .json(&serde_json::json!({"username": user, "password": PASSWORD, "totp": code}))
                .send()
                .unwrap()
                .json()
                .unwrap();
            r["token"].as_str().expect("login").to_string()
        })
        .collect();
    let limit: u32 = std::env::var("ILOT_BENCH_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let ask_at = |path: &str, token: &str| -> (f64, serde_json::Value) {
        let t0 = Instant::now();
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().unwrap();
        (t0.elapsed().as_secs_f64() * 1000.0, v)
    };
    let triage = format!("/v1/operator/triage?days=14&limit={limit}");
    let ask = |token: &str| ask_at(&triage, token);
    let (_, first) = ask(&tokens[0]);
    assert_eq!(first["total"], n);
    assert_eq!(
        first["items"].as_array().unwrap().len(),
        limit.min(n) as usize
    );
    let (_, none) = ask(&tokens[1]);
    assert_eq!(none["total"], 0);
    let mut cats = std::collections::BTreeMap::<String, u32>::new();
    for i in first["items"].as_array().unwrap() {
        *cats
            .entry(i["category"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    eprintln!("first page's categories: {cats:?}");
    // p50 and p95 of 60 requests of ours and of the baseline, alternating, after 5 of each.
    let measure = |path: &str| {
        for _ in 0..5 {
            ask_at(path, &tokens[0]);
            ask_at(path, &tokens[1]);
        }
        let (mut ours, mut base_ms) = (Vec::new(), Vec::new());
        for _ in 0..60 {
            ours.push(ask_at(path, &tokens[0]).0);
            base_ms.push(ask_at(path, &tokens[1]).0);
        }
        (
            percentile(&mut ours, 0.5),
            percentile(&mut ours, 0.95),
            percentile(&mut base_ms, 0.5),
            percentile(&mut base_ms, 0.95),
        )
    };
    let (p50, p95, b50, b95) = measure(&triage);
    println!("triage of {n} patients × 14 days of 5-minute CGM ({backend}, first page of {limit})");
    println!(
        "  GET /v1/operator/triage?days=14: p50 {p50:.1} ms, p95 {p95:.1} ms (target p95 ≤ 150 ms)"
    );
    println!("  baseline, same request for an empty team: p50 {b50:.2} ms, p95 {b95:.2} ms");
    println!(
        "  ratio p95 / baseline p95: {:.1}; p95 minus baseline p95: {:.1} ms",
        p95 / b95,
        p95 - b95
    );
    // The whole patient list: every patient of the team in one answer (and, since V13, one
    // access-log link per patient listed).
    let (_, all) = ask_at("/v1/operator/patients", &tokens[0]);
    assert_eq!(all.as_array().unwrap().len(), n as usize);
    let (p50, p95, b50, b95) = measure("/v1/operator/patients");
    println!("  GET /v1/operator/patients ({n} rows): p50 {p50:.1} ms, p95 {p95:.1} ms");
    println!("  baseline, same request for an empty team: p50 {b50:.2} ms, p95 {b95:.2} ms");

    // The access-log links alone (V13): the audit record of a list of every patient with its
    // links, against the same record (same detail) without them, alternating.
    let ids: Vec<PatientId> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let st = state.storage();
    let with = AuditEvent::new("list-patients", Utc::now()).shows(ids);
    let mut without = with.clone();
    without.shown.clear();
    let (mut linked, mut bare) = (Vec::new(), Vec::new());
    for k in 0..65 {
        let t0 = Instant::now();
        st.record_audit(&with).unwrap();
        let a = t0.elapsed().as_secs_f64() * 1000.0;
        let t0 = Instant::now();
        st.record_audit(&without).unwrap();
        let b = t0.elapsed().as_secs_f64() * 1000.0;
        if k >= 5 {
            linked.push(a);
            bare.push(b);
        }
    }
    println!(
        "  audit record of a {n}-patient list with its {n} links: p50 {:.2} ms, p95 {:.2} ms; without links: p50 {:.2} ms, p95 {:.2} ms",
        percentile(&mut linked, 0.5),
        percentile(&mut linked, 0.95),
        percentile(&mut bare, 0.5),
        percentile(&mut bare, 0.95),
    );
}
