//! `cargo bench -p ilot-sync --bench fleet` — issue #4: 2,000 devices push at the same time to one
//! server; no push may fail; latency per push (p50/p95/p99).
//!
//! The server is `ilot-server` in this process on a loopback port (axum over real HTTP, its own
//! tokio runtime) on the storage named by `ILOT_BENCH_DB_URL` (`postgres://…` once the
//! PostgreSQL backend is in; default a SQLite file in a temp folder). The 2,000 patients and
//! devices are enrolled through the storage directly (the HTTP enrolment is rate-limited per
//! address, and it is not what is measured). Each device then pushes one day of 5-minute CGM
//! (288 readings) in three sealed batches of 96, one after the other, as the sync engine does:
//! 2,000 tokio tasks on a second runtime share one async reqwest client (so up to 2,000
//! connections are open at once); each task seals its batch with `ilot-wire`, then times the
//! request until the answer's body is in, then opens and checks the sealed acknowledgement
//! (not timed). Baseline in the same run, with the same 2,000 tasks × 3 requests: a trivial
//! endpoint (`GET /v1/ping`, which the router answers with its small JSON 404) and
//! `GET /openapi.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta, Utc};
use ilot_domain::{
    DiabetesType, Entry, EntryKind, Glucose, GlucoseReading, Monitoring, Prescription, Source,
    SourceKind,
};
use ilot_server::operator::{CreatePatient, create_patient_with_code};
use ilot_server::storage::DeviceRow;
use ilot_server::{AppState, Config};
use ilot_wire::api::{SEALED_MEDIA_TYPE, paths};
use ilot_wire::{
    BatchHeader, CareRole, ConsentChange, DeviceId, DeviceSecret, Expected, OpenBatch, PatientId,
    SealedAck, SeqRule, SessionKeys, WireEntry, WireOp, open, seal,
};

const DEVICES: usize = 2_000;
const PER_DAY: usize = 288;
const BATCH: usize = 96;

struct Device {
    patient: PatientId,
    id: DeviceId,
    keys: SessionKeys,
}

fn enrol_all(state: &AppState) -> Vec<Device> {
    let s = state.storage();
    let hash = ilot_server::auth::hash_password("a long enough password").unwrap();
    let now = Utc::now();
    let op_id = s
        .create_operator("dr", "Dr Martin", CareRole::Physician, &hash, now)
        .unwrap();
    let team = s.create_team("fleet", now).unwrap();
    s.set_operator_team(op_id, team).unwrap();
    let op = s.operator_by_username("dr").unwrap().unwrap();
    let mut rng = rand::rng();
    (0..DEVICES)
        .map(|n| {
            let e = create_patient_with_code(
                state,
                CreatePatient {
                    pseudonym: format!("P-{n:04}"),
                    ins: None,
                    tz: None,
                    prescription: Prescription::new(
                        DiabetesType::Type1,
                        Monitoring::Cgm,
                        4,
                        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                    ),
                },
                &op,
            )
            .unwrap();
            let secret = DeviceSecret::generate(&mut rng);
            let row = DeviceRow {
                id: DeviceId::random(&mut rng),
                patient_id: e.patient_id,
                public_key: secret.public_key(),
                label: None,
                enrolled_at: now,
                last_batch_seq: None,
            };
            let code: ilot_wire::EnrolmentCode = e.code.parse().unwrap();
            let patient = s
                .redeem_code(&code.canonical(), &row, now)
                .unwrap()
                .unwrap();
            let keys = secret
                .agree(&state.server_public_key(), patient, row.id)
                .unwrap();
            Device {
                patient,
                id: row.id,
                keys,
            }
        })
        .collect()
}

/// Batch `b` (0-based) of a device's day: 96 CGM readings, the first batch with the consent.
fn batch(d: &Device, n: usize, b: usize) -> Vec<u8> {
    let now = Utc::now();
    let start = now - TimeDelta::days(1);
    let source = ilot_domain::DeviceId::new(format!("sim-cgm-{n}")).unwrap();
    let items = (b * BATCH..(b + 1) * BATCH)
        .map(|i| {
            let at = (start + TimeDelta::minutes(5 * i as i64)).fixed_offset();
            let mg = 80.0 + ((i * 7 + n) % 120) as f64;
            let entry = Entry::new(
                at,
                Source::device(SourceKind::Cgm, source.clone(), i as u32 + 1),
                EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg).unwrap())),
                now,
            )
            .unwrap();
            WireEntry {
                id: i as i64 + 1,
                version: 1,
                op: WireOp::Insert,
                recorded_at: now,
                entry,
                reason: None,
            }
        })
        .collect();
    let mut open_batch =
        OpenBatch::new(BatchHeader::new(d.patient, d.id, b as u64 + 1, now), items);
    if b == 0 {
        open_batch.consent = Some(ConsentChange {
            granted: true,
            at: now,
            notice_version: 1,
        });
    }
    seal(&open_batch, &d.keys.to_server, &mut rand::rng())
        .unwrap()
        .into_bytes()
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    errors: Vec<String>,
    wall: Duration,
}

/// Every device pushes its day, all at once.
async fn push_all(client: reqwest::Client, url: String, devices: Arc<Vec<Device>>) -> Outcome {
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..devices.len() {
        let (client, url, devices) = (client.clone(), url.clone(), devices.clone());
        set.spawn(async move {
            let d = &devices[n];
            let mut lat = Vec::new();
            for b in 0..PER_DAY / BATCH {
                let body = batch(d, n, b);
                let t = Instant::now();
                let r = client
                    .post(format!("{url}{}", paths::PUSH))
                    .header(reqwest::header::CONTENT_TYPE, SEALED_MEDIA_TYPE)
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| format!("device {n} batch {b}: {e}"))?;
                let status = r.status();
                let answer = r.bytes().await.map_err(|e| e.to_string())?;
                lat.push(t.elapsed());
                if !status.is_success() {
                    return Err(format!(
                        "device {n} batch {b}: HTTP {status}: {}",
                        String::from_utf8_lossy(&answer)
                    ));
                }
                let ack = open(
                    &SealedAck::from_bytes(answer.to_vec()).map_err(|e| e.to_string())?,
                    &d.keys.to_device,
                    &Expected::new(d.patient, d.id, SeqRule::Exact(b as u64 + 1)),
                )
                .map_err(|e| e.to_string())?;
                ack.confirms(&ilot_wire::SealedBatch::from_bytes(body).unwrap())
                    .map_err(|e| e.to_string())?;
                if ack.ack.stored != BATCH as u32 {
                    return Err(format!("device {n} batch {b}: stored {}", ack.ack.stored));
                }
            }
            Ok(lat)
        });
    }
    collect(set, start).await
}

/// The same concurrency on a trivial endpoint.
async fn get_all(client: reqwest::Client, url: String, path: &'static str) -> Outcome {
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..DEVICES {
        let (client, url) = (client.clone(), url.clone());
        set.spawn(async move {
            let mut lat = Vec::new();
            for _ in 0..PER_DAY / BATCH {
                let t = Instant::now();
                let r = client
                    .get(format!("{url}{path}"))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let body = r.bytes().await.map_err(|e| e.to_string())?;
                lat.push(t.elapsed());
                std::hint::black_box(body);
            }
            Ok(lat)
        });
    }
    collect(set, start).await
}

async fn collect(
    mut set: tokio::task::JoinSet<Result<Vec<Duration>, String>>,
    start: Instant,
) -> Outcome {
    let mut out = Outcome::default();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(l)) => out.latencies.extend(l),
            Ok(Err(e)) => out.errors.push(e),
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    out.wall = start.elapsed();
    out.latencies.sort();
    out
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

fn line(name: &str, o: &Outcome) -> [f64; 3] {
    let q = [
        pct(&o.latencies, 0.50),
        pct(&o.latencies, 0.95),
        pct(&o.latencies, 0.99),
    ];
    println!(
        "  {name:<34} {:>6} requests, {} errors, wall {:>6.2} s ({:>5.0}/s); p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
        o.latencies.len(),
        o.errors.len(),
        o.wall.as_secs_f64(),
        o.latencies.len() as f64 / o.wall.as_secs_f64(),
        q[0],
        q[1],
        q[2],
        o.latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    q
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = std::env::var("ILOT_BENCH_DB_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("server.db").display()));
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let storage =
        ilot_server::storage::open(&db_url, &ilot_server::atrest::ServerKey::generate()).unwrap();
    let state = AppState::new(storage, Config::new(url.clone())).unwrap();
    server_rt.spawn(ilot_server::serve(state.clone(), listener));

    let t = Instant::now();
    let devices = Arc::new(enrol_all(&state));
    println!(
        "{DEVICES} devices enrolled through the storage ({}) in {:.1} s",
        db_url.split(':').next().unwrap_or("?"),
        t.elapsed().as_secs_f64()
    );
    println!(
        "each pushes {PER_DAY} CGM readings in {} sealed batches of {BATCH}, all devices at once (tokio tasks, one async reqwest client)",
        PER_DAY / BATCH
    );

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(DEVICES)
        .build()
        .unwrap();
    let ping = client_rt.block_on(get_all(client.clone(), url.clone(), "/v1/ping"));
    let openapi = client_rt.block_on(get_all(client.clone(), url.clone(), "/openapi.json"));
    let push = client_rt.block_on(push_all(client.clone(), url.clone(), devices.clone()));
    let ping_after = client_rt.block_on(get_all(client, url, "/v1/ping"));

    println!("\nlatency per request under {DEVICES} concurrent clients:");
    let b = line("baseline GET /v1/ping (404 JSON)", &ping);
    line("baseline GET /openapi.json", &openapi);
    let ours = line("ours: sealed push of 96 readings", &push);
    line("baseline GET /v1/ping, after", &ping_after);
    println!(
        "  ratio push / ping: p50 {:.1}x  p95 {:.1}x  p99 {:.1}x",
        ours[0] / b[0],
        ours[1] / b[1],
        ours[2] / b[2]
    );
    for e in push.errors.iter().chain(&ping.errors).take(5) {
        println!("  error: {e}");
    }
    let stored: u64 = devices
        .iter()
        .map(|d| state.storage().count_entry_versions(d.patient).unwrap())
        .sum();
    println!(
        "  stored on the server: {stored} entry versions (expected {})",
        DEVICES * PER_DAY
    );
    assert!(push.errors.is_empty(), "pushes failed");
    assert_eq!(stored, (DEVICES * PER_DAY) as u64);
    server_rt.shutdown_background();
}
