//! One year of one-minute CGM (525,600 readings) into a fresh encrypted file database through
//! `Store::add_batch`, against a baseline in the same run: a raw prepared INSERT loop, in one
//! transaction, of the same readings' essential columns into a plain table with no extra index,
//! in the same kind of database (SQLCipher, same key, WAL, synchronous = FULL, same page cache).
//!
//! `cargo bench -p ilot-store --bench ingest`. Prints rows/s for each and the ratio (target
//! ≥ 50 %). The entries are built before timing; the timings include the commit.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use ilot_domain::{
    DeviceId, Entry, EntryKind, Glucose, GlucoseLevel, GlucoseReading, Source, SourceKind,
};
use ilot_store::{DbKey, Store};
use rusqlite::{Connection, params};

const READINGS: u32 = 365 * 24 * 60;
const ROUNDS: usize = 3;

fn key() -> DbKey {
    DbKey::from_bytes([0x5a; 32])
}

fn year_of_cgm() -> Vec<Entry> {
    let start: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2025-01-01T00:00:00+01:00").unwrap();
    let device = DeviceId::new("dexcom:g7:bench").unwrap();
    (0..READINGS)
        .map(|i| {
            // A plausible daily wave, 70–250 mg/dL, with a tenth of a unit of noise.
            let t = f64::from(i);
            let mg_dl = 160.0 + 90.0 * (t / 1440.0 * std::f64::consts::TAU).sin()
                + f64::from(i % 7) * 0.1;
            Entry {
                at: start + TimeDelta::minutes(i64::from(i)),
                source: Source::device(SourceKind::Cgm, device.clone(), i + 1),
                kind: EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg_dl).unwrap())),
            }
        })
        .collect()
}

fn store_ingest(dir: &Path, entries: &[Entry], batch: usize, now: DateTime<Utc>) -> Duration {
    let path = dir.join("store.db");
    let mut store = Store::open(&path, &key()).unwrap();
    let t0 = Instant::now();
    let mut added = 0;
    for chunk in entries.chunks(batch) {
        added += store.add_batch(chunk, now).unwrap().added;
    }
    let elapsed = t0.elapsed();
    assert_eq!(added, entries.len());
    assert_eq!(store.outbox_len().unwrap(), entries.len() as u64);
    elapsed
}

/// The same connection settings as `Store::open`, so that the ratio measures the store's own work.
fn baseline_ingest(dir: &Path, entries: &[Entry]) -> Duration {
    let path = dir.join("baseline.db");
    let mut conn = Connection::open(&path).unwrap();
    let hex: String = [0x5au8; 32].iter().map(|b| format!("{b:02x}")).collect();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA cache_size = -16384;
         CREATE TABLE readings (at_ms INTEGER, mg_dl REAL, value REAL, unit INTEGER,
             context INTEGER, source TEXT, record INTEGER);",
    )
    .unwrap();
    let t0 = Instant::now();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO readings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .unwrap();
        for e in entries {
            let EntryKind::Glucose(r) = &e.kind else {
                unreachable!()
            };
            let GlucoseLevel::Value(g) = r.level else {
                unreachable!()
            };
            stmt.execute(params![
                e.at.timestamp_millis(),
                g.mg_dl(),
                g.value(),
                g.unit().code(),
                r.context as u8,
                e.source.device.as_ref().map(|d| d.as_str()),
                e.source.record_number,
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    t0.elapsed()
}

fn rate(rows: usize, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64()
}

fn main() {
    let entries = black_box(year_of_cgm());
    let now = entries.last().unwrap().at_utc() + TimeDelta::hours(1);
    let n = entries.len();
    println!("ingest: {n} one-minute CGM readings (1 year), SQLCipher file database, WAL, synchronous=FULL");

    let mut best_base = Duration::MAX;
    let mut best_all = Duration::MAX;
    let mut best_10k = Duration::MAX;
    for round in 1..=ROUNDS {
        let base = baseline_ingest(tempfile::tempdir().unwrap().path(), &entries);
        let all = store_ingest(tempfile::tempdir().unwrap().path(), &entries, n, now);
        let b10k = store_ingest(tempfile::tempdir().unwrap().path(), &entries, 10_000, now);
        println!(
            "  round {round}: baseline {:.0} rows/s, add_batch(all) {:.0} rows/s, add_batch(10k) {:.0} rows/s",
            rate(n, base),
            rate(n, all),
            rate(n, b10k)
        );
        best_base = best_base.min(base);
        best_all = best_all.min(all);
        best_10k = best_10k.min(b10k);
    }
    let (base, all, b10k) = (rate(n, best_base), rate(n, best_all), rate(n, best_10k));
    println!("best of {ROUNDS}:");
    println!("  baseline (raw prepared insert, 1 table, no index): {base:>12.0} rows/s  {best_base:?}");
    println!("  Store::add_batch, one batch of {n}:           {all:>12.0} rows/s  {best_all:?}  ratio {:.1} %", 100.0 * all / base);
    println!("  Store::add_batch, batches of 10,000:            {b10k:>12.0} rows/s  {best_10k:?}  ratio {:.1} %", 100.0 * b10k / base);
}
