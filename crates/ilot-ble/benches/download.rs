//! Three measurements, each against a baseline taken in the same run:
//!
//! 1. Decode throughput: GLS Glucose Measurement and CGM Measurement frames decoded per second,
//!    against a plain byte-sum over the same bytes (the cost of merely touching them).
//! 2. The download cursor (`RecordSink::last_record_number`, asked twice per download by the app
//!    and every 10 minutes by its background poll) on an encrypted store already holding a year
//!    of one-minute CGM (525,600 readings), against finding it by loading every entry (what the
//!    sink did before).
//! 3. Downloading 1,000 stored records from the simulated meter through the production download
//!    code into that year-full encrypted store file (SQLCipher, `synchronous = FULL`, one
//!    transaction per 50 records): at a 7.5 ms connection interval on the real clock, against a
//!    sim-only pass over the same link that does nothing per record (target: ours ≤ 105 % of the
//!    link time); and at a zero interval, where the simulator's fixed schedule no longer hides
//!    per-record work (any work under 7.5 ms a record reads as 100 % above), against the same
//!    sim-only pass and the same download into an empty store.
//!
//! Run: `cargo bench -p ilot-ble --bench download` (about a minute; the link passes run in real
//! time because a paused clock would hide the store's cost).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use ilot_ble::gatt::{GlucoseMeasurement, decode_cgm_measurements, ids};
use ilot_ble::link::{LinkEvent, Peripheral};
use ilot_ble::sim::{self, SimClock, SimDevice};
use ilot_ble::{Options, RecordSink, download};
use ilot_domain::{DeviceId, Entry, EntryKind, Glucose, GlucoseReading, Source, SourceKind};
use ilot_store::{DbKey, Store};

const INTERVAL: Duration = Duration::from_micros(7500);
const RECORDS: u16 = 1000;

fn frames() -> Vec<(bool, Vec<u8>)> {
    let base = ilot_ble::gatt::DateTime {
        year: 2026,
        month: 3,
        day: 1,
        hours: 8,
        minutes: 0,
        seconds: 0,
    };
    (0..1000u16)
        .map(|i| {
            if i % 2 == 0 {
                let mut v = vec![0x0B, i as u8, (i >> 8) as u8];
                v.extend(base.encode());
                v.extend_from_slice(&[0x00, 0x00, 0x7E, 0xB0, 0x12, 0x00, 0x00]);
                (true, v)
            } else {
                let mut v = vec![
                    0x0F,
                    0xE3,
                    0x78,
                    0x00,
                    i as u8,
                    (i >> 8) as u8,
                    0,
                    0,
                    0,
                    0xF1,
                    0xFF,
                    0x5F,
                    0x00,
                ];
                let c = ilot_ble::gatt::crc16_mcrf4xx(&v);
                v.extend_from_slice(&c.to_le_bytes());
                (false, v)
            }
        })
        .collect()
}

fn decode_bench() {
    let frames = frames();
    let rounds = 2000;
    let n = (frames.len() * rounds) as f64;
    let t = Instant::now();
    let mut sum = 0u64;
    for _ in 0..rounds {
        for (_, f) in &frames {
            sum = sum.wrapping_add(black_box(f).iter().map(|b| u64::from(*b)).sum::<u64>());
        }
    }
    black_box(sum);
    let base = t.elapsed();
    let t = Instant::now();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for (gls, f) in &frames {
            ok += if *gls {
                usize::from(GlucoseMeasurement::decode(black_box(f)).is_ok())
            } else {
                decode_cgm_measurements(black_box(f), Some(true)).map_or(0, |r| r.len())
            };
        }
    }
    let ours = t.elapsed();
    assert_eq!(ok as f64, n);
    println!(
        "decode: {:.1} M frames/s (GLS 2A18 + CGM 2AA7 with CRC, {} frames)",
        n / ours.as_secs_f64() / 1e6,
        n
    );
    println!(
        "  baseline byte-sum of the same bytes: {:.1} M frames/s",
        n / base.as_secs_f64() / 1e6
    );
    println!(
        "  ratio decode/byte-sum time: {:.2}",
        ours.as_secs_f64() / base.as_secs_f64()
    );
}

fn meter(now: DateTime<Utc>, interval: Duration) -> SimDevice {
    let first = now - TimeDelta::hours(8) * i32::from(RECORDS);
    let mut hist = sim::meter_history(RECORDS, first, TimeDelta::hours(8));
    for h in &mut hist {
        h.meal = None;
        h.carbs_g = None;
    }
    SimDevice::meter(&hist, SimClock::Local(chrono_tz::Europe::Paris), now, &[])
        .with_interval(interval)
}

/// The link alone: the same connection, subscriptions and RACP request, nothing done per record.
async fn sim_only(dev: &mut SimDevice) -> u32 {
    dev.connect().await.unwrap();
    dev.subscribe(ids::GLUCOSE_MEASUREMENT).await.unwrap();
    dev.subscribe(ids::RACP).await.unwrap();
    dev.write(ids::RACP, &[0x01, 0x01]).await.unwrap();
    let mut n = 0;
    loop {
        match dev.next_event().await {
            LinkEvent::Value { characteristic, .. } if characteristic == ids::RACP => return n,
            LinkEvent::Value { .. } => n += 1,
            LinkEvent::Disconnected => panic!("the simulator dropped"),
        }
    }
}

/// A year of one-minute CGM from another sensor, ending `now`.
fn year_of_cgm(now: DateTime<Utc>) -> Vec<Entry> {
    let sensor = DeviceId::new("bench:cgm:year").unwrap();
    let n = 365 * 24 * 60;
    let first = now.fixed_offset() - TimeDelta::minutes(i64::from(n));
    (0..n)
        .map(|i| Entry {
            at: first + TimeDelta::minutes(i64::from(i)),
            source: Source::device(SourceKind::Cgm, sensor.clone(), i + 1),
            kind: EntryKind::Glucose(GlucoseReading::cgm(
                Glucose::from_mg_dl(70.0 + f64::from(i % 180)).unwrap(),
            )),
        })
        .collect()
}

/// Encrypted store files in a private temporary folder: an empty one, or copies of one holding a
/// year of CGM, all under one key.
struct Stores {
    dir: PathBuf,
    key: DbKey,
    year: PathBuf,
    made: u32,
}

impl Stores {
    fn new(now: DateTime<Utc>) -> Self {
        let dir = std::env::temp_dir().join(format!("ilot-ble-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = DbKey::generate();
        let year = dir.join("year.db");
        let t = Instant::now();
        let mut store = Store::open(&year, &key).unwrap();
        let report = store.add_batch(&year_of_cgm(now), Utc::now()).unwrap();
        drop(store);
        println!(
            "store with a year of one-minute CGM: {} readings, written in {:.1} s (not timed below)",
            report.added,
            t.elapsed().as_secs_f64()
        );
        Self {
            dir,
            key,
            year,
            made: 0,
        }
    }

    fn open(&mut self, with_year: bool) -> Store {
        self.made += 1;
        let path = self.dir.join(format!("store-{}.db", self.made));
        if with_year {
            std::fs::copy(&self.year, &path).unwrap();
        }
        Store::open(&path, &self.key).unwrap()
    }
}

impl Drop for Stores {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn cursor_bench(stores: &mut Stores) {
    let store = stores.open(true);
    let meter = DeviceId::new("bench:meter:cursor").unwrap();
    let cgm = DeviceId::new("bench:cgm:year").unwrap();
    let ours = median(
        (0..101)
            .map(|_| {
                let t = Instant::now();
                let c = RecordSink::last_record_number(&store, SourceKind::Cgm, black_box(&cgm));
                let d = t.elapsed();
                assert_eq!(c.unwrap(), Some(525_600));
                black_box(
                    RecordSink::last_record_number(&store, SourceKind::Meter, &meter).unwrap(),
                );
                d
            })
            .collect(),
    );
    // Before: every entry loaded, this device's record numbers kept, the highest taken.
    let before = median(
        (0..3)
            .map(|_| {
                let t = Instant::now();
                let c = store
                    .entries(None, None, None, true)
                    .unwrap()
                    .into_iter()
                    .filter(|e| {
                        e.entry.source.kind == SourceKind::Cgm
                            && e.entry.source.device.as_ref() == Some(&cgm)
                    })
                    .filter_map(|e| e.entry.source.record_number)
                    .max();
                let d = t.elapsed();
                assert_eq!(c, Some(525_600));
                d
            })
            .collect(),
    );
    println!("download cursor on the year-full store (525,600 entries):");
    println!(
        "  ours (one SQL query on the keys), median of 101: {:.1} µs",
        ours.as_secs_f64() * 1e6
    );
    println!(
        "  baseline: loading every entry and taking the max (the sink before), median of 3: {:.0} ms",
        before.as_secs_f64() * 1e3
    );
    println!(
        "  ratio baseline / ours: {:.0}×",
        before.as_secs_f64() / ours.as_secs_f64()
    );
}

/// One download of the meter's 1,000 records into `store`, timed.
fn timed_download(
    rt: &tokio::runtime::Runtime,
    now: DateTime<Utc>,
    interval: Duration,
    mut store: Store,
) -> Duration {
    let mut dev = meter(now, interval);
    let opts = Options::new(now, chrono_tz::Europe::Paris);
    let t = Instant::now();
    let report = rt.block_on(download(&mut dev, &mut store, &opts)).unwrap();
    let d = t.elapsed();
    assert_eq!(report.readings_stored, u32::from(RECORDS));
    d
}

fn timed_link(rt: &tokio::runtime::Runtime, now: DateTime<Utc>, interval: Duration) -> Duration {
    let mut dev = meter(now, interval);
    let t = Instant::now();
    let n = rt.block_on(sim_only(&mut dev));
    assert_eq!(n, u32::from(RECORDS));
    t.elapsed()
}

fn download_bench(stores: &mut Stores, now: DateTime<Utc>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();

    let link = timed_link(&rt, now, INTERVAL);
    let ours = timed_download(&rt, now, INTERVAL, stores.open(true));
    let nominal = INTERVAL * (u32::from(RECORDS) + 1);
    println!(
        "download of {RECORDS} records at a {INTERVAL:?} connection interval, into the year-full store:"
    );
    println!(
        "  nominal link time ({} frames × interval): {:.3} s",
        RECORDS + 1,
        nominal.as_secs_f64()
    );
    println!(
        "  sim-only pass (baseline, nothing per record): {:.3} s",
        link.as_secs_f64()
    );
    println!(
        "  ours (decode, place, build entries, SQLCipher store by batches of 50): {:.3} s",
        ours.as_secs_f64()
    );
    println!(
        "  ratio ours / sim-only: {:.1} % (target ≤ 105 %)",
        100.0 * ours.as_secs_f64() / link.as_secs_f64()
    );

    // No connection interval: the link costs only its code, so the store's share shows. Best of
    // 3 each, alternating.
    let mut link0 = Vec::new();
    let mut empty0 = Vec::new();
    let mut year0 = Vec::new();
    for _ in 0..3 {
        link0.push(timed_link(&rt, now, Duration::ZERO));
        empty0.push(timed_download(&rt, now, Duration::ZERO, stores.open(false)));
        year0.push(timed_download(&rt, now, Duration::ZERO, stores.open(true)));
    }
    let (link0, empty0, year0) = (
        *link0.iter().min().unwrap(),
        *empty0.iter().min().unwrap(),
        *year0.iter().min().unwrap(),
    );
    let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(RECORDS);
    println!("download of {RECORDS} records with no connection interval (best of 3):");
    println!(
        "  sim-only pass (baseline): {:.1} ms ({:.1} µs a record)",
        link0.as_secs_f64() * 1e3,
        per(link0)
    );
    println!(
        "  ours into an empty store: {:.1} ms ({:.1} µs a record)",
        empty0.as_secs_f64() * 1e3,
        per(empty0)
    );
    println!(
        "  ours into the year-full store: {:.1} ms ({:.1} µs a record), {:.2}× the empty store",
        year0.as_secs_f64() * 1e3,
        per(year0),
        year0.as_secs_f64() / empty0.as_secs_f64()
    );
}

fn main() {
    decode_bench();
    let now = Utc::now();
    let mut stores = Stores::new(now);
    cursor_bench(&mut stores);
    download_bench(&mut stores, now);
}
