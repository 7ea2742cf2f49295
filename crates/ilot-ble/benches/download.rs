//! Two measurements, each against a baseline taken in the same run:
//!
//! 1. Decode throughput: GLS Glucose Measurement and CGM Measurement frames decoded per second,
//!    against a plain byte-sum over the same bytes (the cost of merely touching them).
//! 2. Downloading 1,000 stored records from the simulated meter at a 7.5 ms connection interval,
//!    on the real clock, through the production download code into an encrypted store file
//!    (SQLCipher, `synchronous = FULL`, one transaction per 50 records), against a sim-only pass
//!    over the same link that does nothing per record. Target: ours ≤ 105 % of the link time.
//!
//! Run: `cargo bench -p ilot-ble --bench download` (about 25 s; the link passes run in real time
//! because a paused clock would hide the store's cost).

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use ilot_ble::gatt::{GlucoseMeasurement, decode_cgm_measurements, ids};
use ilot_ble::link::{LinkEvent, Peripheral};
use ilot_ble::sim::{self, SimClock, SimDevice};
use ilot_ble::{Options, download};

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

fn meter(now: DateTime<Utc>) -> SimDevice {
    let first = now - TimeDelta::hours(8) * i32::from(RECORDS);
    let mut hist = sim::meter_history(RECORDS, first, TimeDelta::hours(8));
    for h in &mut hist {
        h.meal = None;
        h.carbs_g = None;
    }
    SimDevice::meter(&hist, SimClock::Local(chrono_tz::Europe::Paris), now, &[])
        .with_interval(INTERVAL)
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

fn download_bench() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let now = Utc::now();

    let mut dev = meter(now);
    let t = Instant::now();
    let n = rt.block_on(sim_only(&mut dev));
    let link = t.elapsed();
    assert_eq!(n, u32::from(RECORDS));

    let dir = std::env::temp_dir().join(format!("ilot-ble-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db");
    let mut store = ilot_store::Store::open(&path, &ilot_store::DbKey::generate()).unwrap();
    let mut dev = meter(now);
    let opts = Options::new(now, chrono_tz::Europe::Paris);
    let t = Instant::now();
    let report = rt.block_on(download(&mut dev, &mut store, &opts)).unwrap();
    let ours = t.elapsed();
    assert_eq!(report.readings_stored, u32::from(RECORDS));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);

    let nominal = INTERVAL * (u32::from(RECORDS) + 1);
    println!(
        "download of {RECORDS} records at a {:?} connection interval:",
        INTERVAL
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
}

fn main() {
    decode_bench();
    download_bench();
}
