//! PostgreSQL backend at scale: bytes stored per CGM reading and ingest rows/s through
//! `Storage::ingest`, against a bare `COPY` of the same rows into a table with the same
//! columns and key (the floor any ingest path pays) in the same run, on a throwaway durable
//! cluster (fsync and synchronous commit on).
//!
//! Run: `cargo bench -p ilot-server --bench pg_size` (ILOT_BENCH_READINGS to change the count).

use std::time::Instant;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{
    DiabetesType, Entry, EntryKind, Glucose, GlucoseReading, Monitoring, Prescription, Source,
    SourceKind,
};
use ilot_server::storage::{DeviceRow, IngestBatch, IngestOutcome, NewPatient, Storage};
use ilot_wire::{
    BatchDigest, CareRole, CareTeamMember, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp,
};

const BATCH: usize = 500;

fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

/// `n` CGM readings every 5 minutes from a named sensor, as the app sends them.
fn readings(n: usize, first: usize) -> Vec<WireEntry> {
    let sensor = ilot_domain::DeviceId::new("Dexcom G7 SN 4T2X9KQ").unwrap();
    (first..first + n)
        .map(|i| {
            let at = (t0() - TimeDelta::minutes(5 * (2_000_000 - i as i64))).fixed_offset();
            let mg = 70.0 + (i % 180) as f64;
            let e = Entry::new(
                at,
                Source::device(SourceKind::Cgm, sensor.clone(), i as u32),
                EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg).unwrap())),
                t0(),
            )
            .unwrap();
            WireEntry {
                id: i as i64,
                version: 1,
                op: WireOp::Insert,
                recorded_at: t0(),
                entry: e,
                reason: None,
            }
        })
        .collect()
}

fn patient(s: &dyn Storage, n: u8) -> (PatientId, DeviceId) {
    let id = PatientId::from_bytes([n; 16]);
    let dr = CareTeamMember {
        name: "Dr Martin".into(),
        role: CareRole::Physician,
    };
    let p = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Cgm,
        4,
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
    );
    let new = NewPatient {
        pseudonym: format!("P{n}"),
        ins: None,
        tz: chrono_tz::Europe::Paris,
        prescription: p,
    };
    s.create_patient(&new, id, &dr, t0()).unwrap();
    let code = format!("BENCH{n}");
    s.add_enrolment_code(&code, id, t0() + TimeDelta::hours(72))
        .unwrap();
    let dev = DeviceRow {
        id: DeviceId::from_bytes([n.wrapping_add(100); 16]),
        patient_id: id,
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: None,
        enrolled_at: t0(),
        last_batch_seq: None,
    };
    s.redeem_code(&code, &dev, t0()).unwrap().unwrap();
    (id, dev.id)
}

fn ingest_all(s: &dyn Storage, p: PatientId, d: DeviceId, items: &[WireEntry]) {
    for (k, chunk) in items.chunks(BATCH).enumerate() {
        let out = s
            .ingest(&IngestBatch {
                patient_id: p,
                device_id: d,
                seq: k as u64 + 1,
                digest: BatchDigest::from_bytes([k as u8; 32]),
                items: chunk,
                consent: None,
                now: t0(),
            })
            .unwrap();
        assert!(matches!(out, IngestOutcome::Stored(a) if a.stored as usize == chunk.len()));
    }
}

/// The same rows through `COPY` in the same batch transactions: no lock, no batch record, no
/// dedup check beyond the key.
fn copy_baseline(url: &str, items: &[WireEntry]) -> f64 {
    use std::io::Write;
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE raw (patient_id BYTEA NOT NULL, device_id BYTEA NOT NULL, entry_id BIGINT NOT NULL,
           version BIGINT NOT NULL, deleted BOOLEAN NOT NULL, at TIMESTAMPTZ NOT NULL, recorded_at TIMESTAMPTZ NOT NULL,
           received_at TIMESTAMPTZ NOT NULL, kind TEXT NOT NULL, entry TEXT NOT NULL,
           PRIMARY KEY (patient_id, device_id, entry_id, version));
         CREATE INDEX raw_patient_at ON raw (patient_id, at);",
    )
    .unwrap();
    let p = "\\\\x".to_string() + &"09".repeat(16);
    let d = "\\\\x".to_string() + &"6d".repeat(16);
    let start = Instant::now();
    for chunk in items.chunks(BATCH) {
        let mut tx = c.transaction().unwrap();
        let mut w = tx
            .copy_in("COPY raw FROM STDIN WITH (FORMAT text)")
            .unwrap();
        for it in chunk {
            let json = serde_json::to_string(&it.entry)
                .unwrap()
                .replace('\\', "\\\\");
            writeln!(
                w,
                "{p}\t{d}\t{}\t1\tf\t{}\t{}\t{}\t{}\t{json}",
                it.id,
                it.entry.at_utc().to_rfc3339(),
                it.recorded_at.to_rfc3339(),
                t0().to_rfc3339(),
                it.entry.kind.name()
            )
            .unwrap();
        }
        w.finish().unwrap();
        tx.commit().unwrap();
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("ILOT_BENCH_READINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let cluster = ilot_testpg::Cluster::start_durable().expect("a PostgreSQL cluster");
    let url = cluster.fresh_database("pg_size").unwrap();
    let s = ilot_server::storage::open(&url, &ilot_server::atrest::ServerKey::generate()).unwrap();
    let items = readings(n, 0);

    let (p, d) = patient(s.as_ref(), 1);
    let start = Instant::now();
    ingest_all(s.as_ref(), p, d, &items);
    let ours = start.elapsed().as_secs_f64();
    let base = copy_baseline(&url, &items);

    // Four devices at once through one node's pool (one patient each).
    let per = n / 4;
    let parts: Vec<_> = (0..4u8)
        .map(|k| (patient(s.as_ref(), 10 + k), readings(per, k as usize * per)))
        .collect();
    let start = Instant::now();
    std::thread::scope(|sc| {
        for ((p, d), items) in &parts {
            let s = s.as_ref();
            sc.spawn(move || ingest_all(s, *p, *d, items));
        }
    });
    let parallel = start.elapsed().as_secs_f64();

    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // One statement per call: VACUUM refuses the implicit transaction of a multi-statement batch.
    c.batch_execute("VACUUM ANALYZE entries").unwrap();
    c.batch_execute("VACUUM ANALYZE raw").unwrap();
    let mut size = |t: &str| -> (i64, i64) {
        let r = c
            .query_one(
                "SELECT pg_total_relation_size($1::text::regclass), pg_relation_size($1::text::regclass)",
                &[&t],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    let (total, heap) = size("entries");
    let rows: i64 = c
        .query_one("SELECT COUNT(*) FROM entries", &[])
        .unwrap()
        .get(0);
    let json: f64 = c
        .query_one("SELECT AVG(octet_length(entry))::float8 FROM entries", &[])
        .unwrap()
        .get(0);
    let per_row = total as f64 / rows as f64;
    let per_day = 100_000.0 * 288.0;
    println!("pg_size: {rows} CGM readings in table entries (batches of {BATCH}, durable cluster)");
    println!(
        "  stored: {per_row:.0} B/reading with indexes ({:.0} heap, JSON body {json:.0} B)",
        heap as f64 / rows as f64
    );
    println!(
        "  100,000 CGM patients = 28.8 M readings/day -> {:.1} GB/day, {:.2} TB/year",
        per_row * per_day / 1e9,
        per_row * per_day * 365.0 / 1e12
    );
    println!(
        "  ingest, 1 device:  {:.0} readings/s ({ours:.2} s for {n})",
        n as f64 / ours
    );
    println!(
        "  ingest, 4 devices: {:.0} readings/s ({parallel:.2} s for {})",
        (4 * per) as f64 / parallel,
        4 * per
    );
    println!(
        "  baseline COPY:     {:.0} rows/s ({base:.2} s)",
        n as f64 / base
    );
    println!(
        "  ratio Storage::ingest / COPY (1 device): {:.2} (1.0 = as fast as a bare COPY)",
        base / ours
    );
}
