//! One year of one-minute CGM (525,600 readings) into a fresh encrypted file database through
//! `Store::add_batch`, against a baseline in the same run: a raw prepared INSERT loop, in one
//! transaction, of the same readings' essential columns into a plain table with no extra index,
//! in the same kind of database (SQLCipher, same key, WAL, synchronous = FULL, same page cache).
//!
//! A second line shows where the gap comes from: the same raw prepared-INSERT loop writing the
//! store's own rows (one `entry_rows` row per reading keyed by its packed id, then one batch-map
//! row and one outbox row) into a database made by `Store::open`. The store's ratio to that line
//! is its own overhead; that line's ratio to the baseline is the price of the schema (8-byte
//! packed ids, item numbers, constraints).
//!
//! The batches-of-10,000 line makes 53 durable commits (one fsync each, `synchronous = FULL`)
//! where the baseline makes one: on a slow-fsync disk its wall ratio measures the disk, its CPU
//! ratio the work.
//!
//! A read section then times `Store::glucose_points` over the whole year and over a 14-day window
//! on the 525,600-reading store (which has no time index: it reads its batch map, then rowid
//! ranges), against a raw SELECT through an index on time over the baseline's table, and times
//! `outbox_pending(1000)` in the middle of the year's batch after half of it was marked sent.
//!
//! `cargo bench -p ilot-store --bench ingest`. Prints rows/s for each and the ratio (target
//! ≥ 50 %), best of 3 rounds, by wall time and (on Linux) by the thread's CPU time, which the
//! other processes of a shared machine disturb less. The entries are built before timing; the
//! timings include the commit and its WAL checkpoint.

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
            let mg_dl =
                160.0 + 90.0 * (t / 1440.0 * std::f64::consts::TAU).sin() + f64::from(i % 7) * 0.1;
            Entry {
                at: start + TimeDelta::minutes(i64::from(i)),
                source: Source::device(SourceKind::Cgm, device.clone(), i + 1),
                kind: EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg_dl).unwrap())),
            }
        })
        .collect()
}

/// Wall time and, where the kernel reports it, the calling thread's CPU time.
#[derive(Debug, Clone, Copy)]
struct Took {
    wall: Duration,
    cpu: Option<Duration>,
}

struct Timer(Instant, Option<Duration>);

impl Timer {
    fn start() -> Self {
        Self(Instant::now(), thread_cpu())
    }

    fn stop(self) -> Took {
        Took {
            wall: self.0.elapsed(),
            cpu: thread_cpu().zip(self.1).map(|(b, a)| b - a),
        }
    }
}

/// First field of /proc/thread-self/schedstat: nanoseconds this thread spent on a CPU.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
}

fn store_ingest(dir: &Path, entries: &[Entry], batch: usize, now: DateTime<Utc>) -> Took {
    let path = dir.join("store.db");
    let mut store = Store::open(&path, &key()).unwrap();
    let t = Timer::start();
    let mut added = 0;
    for chunk in entries.chunks(batch) {
        added += store.add_batch(chunk, now).unwrap().added;
    }
    let took = t.stop();
    assert_eq!(added, entries.len());
    assert_eq!(store.outbox_len().unwrap(), entries.len() as u64);
    took
}

/// The same connection settings as `Store::open`, so that the ratio measures the work done.
fn connect(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    let hex: String = [0x5au8; 32].iter().map(|b| format!("{b:02x}")).collect();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA cache_size = -16384;")
        .unwrap();
    conn
}

/// The store's rows written by hand into a database `Store::open` made: the price of the schema
/// (one entry row per reading, keyed by its packed id, plus one batch-map row and one outbox row
/// for the transaction).
fn schema_ingest(dir: &Path, entries: &[Entry], now: DateTime<Utc>) -> Took {
    let path = dir.join("schema.db");
    drop(Store::open(&path, &key()).unwrap());
    let mut conn = connect(&path);
    conn.execute(
        "INSERT INTO sources (id, kind, device, key) VALUES (1, 3, 'dexcom:g7:bench', 1)",
        [],
    )
    .unwrap();
    let now_ms = now.timestamp_millis();
    let id = |e: &Entry| (1i64 << 44) | (1 << 40) | i64::from(e.source.record_number.unwrap());
    let t = Timer::start();
    let tx = conn.transaction().unwrap();
    {
        let mut entry = tx
            .prepare(
                "INSERT INTO entry_rows (id, seq, key_type, at_ms, utc_offset_s, rec, g_mg_dl,
                    g_given, g_code, detail, recorded_ms)
                 VALUES (?1, ?2, 1, ?3, ?4, NULL, ?5, NULL, 376, NULL, ?6)
                 ON CONFLICT (id) DO NOTHING",
            )
            .unwrap();
        for (seq, e) in (1i64..).zip(entries) {
            let (g, _) = glucose_of(e);
            entry
                .execute(params![
                    id(e),
                    seq,
                    e.at.timestamp_millis(),
                    e.at.offset().local_minus_utc(),
                    g.mg_dl(),
                    now_ms,
                ])
                .unwrap();
        }
        let (first, last) = (&entries[0], &entries[entries.len() - 1]);
        tx.execute(
            "INSERT INTO batches (last_seq, first_seq, min_id, max_id, min_at_ms, max_at_ms,
                created_ms) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6)",
            params![
                entries.len() as i64,
                id(first),
                id(last),
                first.at.timestamp_millis(),
                last.at.timestamp_millis(),
                now_ms
            ],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO outbox (seq, first_seq, entity, entity_id, version, op, created_ms,
                pending_from) VALUES (?1, 1, 4, 1, 1, 1, ?2, 1)",
            params![entries.len() as i64, now_ms],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    t.stop()
}

fn glucose_of(e: &Entry) -> (Glucose, &GlucoseReading) {
    let EntryKind::Glucose(r) = &e.kind else {
        unreachable!()
    };
    let GlucoseLevel::Value(g) = r.level else {
        unreachable!()
    };
    (g, r)
}

fn baseline_ingest(dir: &Path, entries: &[Entry]) -> Took {
    let mut conn = connect(&dir.join("baseline.db"));
    conn.execute_batch(
        "CREATE TABLE readings (at_ms INTEGER, mg_dl REAL, value REAL, unit INTEGER,
             context INTEGER, source TEXT, record INTEGER);",
    )
    .unwrap();
    let t = Timer::start();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO readings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .unwrap();
        for e in entries {
            let (g, r) = glucose_of(e);
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
    t.stop()
}

/// Best (shortest) wall and CPU times over the rounds.
#[derive(Debug, Clone, Copy)]
struct Best {
    wall: Duration,
    cpu: Option<Duration>,
}

impl Best {
    fn new() -> Self {
        Self {
            wall: Duration::MAX,
            cpu: Some(Duration::MAX),
        }
    }

    fn add(&mut self, t: Took) {
        self.wall = self.wall.min(t.wall);
        self.cpu = self.cpu.zip(t.cpu).map(|(a, b)| a.min(b));
    }
}

fn rate(rows: usize, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64()
}

/// Best-of-3 time of `f`, whose result must be the same each time.
fn best_of<T: PartialEq + std::fmt::Debug>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let got = black_box(f());
        best = best.min(t.elapsed());
        if let Some(prev) = &out {
            assert_eq!(prev, &got);
        }
        out = Some(got);
    }
    (best, out.unwrap())
}

fn reads(entries: &[Entry], now: DateTime<Utc>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("read.db"), &key()).unwrap();
    store.add_batch(entries, now).unwrap();
    let mut conn = connect(&dir.path().join("indexed.db"));
    conn.execute_batch(
        "CREATE TABLE readings (at_ms INTEGER, mg_dl REAL, value REAL, unit INTEGER,
             context INTEGER, source TEXT, record INTEGER);
         CREATE INDEX readings_at ON readings (at_ms);",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    for e in entries {
        let (g, r) = glucose_of(e);
        tx.execute(
            "INSERT INTO readings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                e.at.timestamp_millis(),
                g.mg_dl(),
                g.value(),
                g.unit().code(),
                r.context as u8,
                e.source.device.as_ref().map(|d| d.as_str()),
                e.source.record_number,
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();

    let end = entries.last().unwrap().at_utc() + TimeDelta::minutes(1);
    let windows = [
        ("glucose_points, whole year", None, None),
        (
            "glucose_points, last 14 days",
            Some(end - TimeDelta::days(14)),
            Some(end),
        ),
    ];
    println!("reads (best of {ROUNDS}; baseline: SELECT through an index on time, same rows):");
    for (name, from, to) in windows {
        let (ours, n) = best_of(|| store.glucose_points(from, to).unwrap().len());
        let (from_ms, to_ms) = (
            from.map_or(i64::MIN, |t| t.timestamp_millis()),
            to.map_or(i64::MAX, |t| t.timestamp_millis()),
        );
        let (base, base_n) = best_of(|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT rowid, at_ms, mg_dl, context FROM readings
                     WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, rowid",
                )
                .unwrap();
            stmt.query_map([from_ms, to_ms], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, u8>(3)?,
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .len()
        });
        assert_eq!(n, base_n);
        println!(
            "  {name:<34} {n:>7} points {:>9.1} ms (indexed baseline {:>7.1} ms, {:>5.1} %)",
            ours.as_secs_f64() * 1e3,
            base.as_secs_f64() * 1e3,
            100.0 * base.as_secs_f64() / ours.as_secs_f64()
        );
    }
    let half: Vec<i64> = store
        .outbox_pending(entries.len() / 2)
        .unwrap()
        .iter()
        .map(|i| i.seq)
        .collect();
    let t = Instant::now();
    store.mark_sent(&half, now).unwrap();
    let marked = t.elapsed();
    let (pending, n) = best_of(|| store.outbox_pending(1000).unwrap().len());
    assert_eq!(n, 1000);
    println!(
        "  mark_sent of {} items {:>9.1} ms; then outbox_pending(1000) {:.2} ms",
        half.len(),
        marked.as_secs_f64() * 1e3,
        pending.as_secs_f64() * 1e3
    );
}

fn main() {
    let entries = black_box(year_of_cgm());
    let now = entries.last().unwrap().at_utc() + TimeDelta::hours(1);
    let n = entries.len();
    println!(
        "ingest: {n} one-minute CGM readings (1 year), SQLCipher file database, WAL, synchronous=FULL"
    );
    let names = [
        "baseline: raw prepared insert, 1 table, no index",
        "raw prepared inserts into the store's schema",
        "Store::add_batch, one batch of all readings",
        "Store::add_batch, batches of 10,000",
    ];
    let mut best = [Best::new(); 4];
    for round in 1..=ROUNDS {
        let took = [
            baseline_ingest(tempfile::tempdir().unwrap().path(), &entries),
            schema_ingest(tempfile::tempdir().unwrap().path(), &entries, now),
            store_ingest(tempfile::tempdir().unwrap().path(), &entries, n, now),
            store_ingest(tempfile::tempdir().unwrap().path(), &entries, 10_000, now),
        ];
        let rates: Vec<String> = took
            .iter()
            .map(|t| format!("{:.0}", rate(n, t.wall)))
            .collect();
        println!("  round {round} (rows/s, wall): {}", rates.join(", "));
        for (b, t) in best.iter_mut().zip(took) {
            b.add(t);
        }
    }
    println!(
        "best of {ROUNDS}:{:>56} | rows/s CPU  vs baseline",
        "rows/s wall  vs baseline"
    );
    for (name, b) in names.iter().zip(best) {
        let cpu = match (b.cpu, best[0].cpu) {
            (Some(c), Some(base)) => format!(
                "{:>11.0}  {:>6.1} %",
                rate(n, c),
                100.0 * base.as_secs_f64() / c.as_secs_f64()
            ),
            _ => "n/a".to_string(),
        };
        println!(
            "  {name:<50} {:>11.0}  {:>6.1} % | {cpu}",
            rate(n, b.wall),
            100.0 * best[0].wall.as_secs_f64() / b.wall.as_secs_f64()
        );
    }
    println!(
        "add_batch(all) runs at {:.1} % of raw SQL on its own schema (wall): the store's own overhead",
        100.0 * best[1].wall.as_secs_f64() / best[2].wall.as_secs_f64()
    );
    reads(&entries, now);
}
