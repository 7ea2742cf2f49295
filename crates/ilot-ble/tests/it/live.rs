//! CGM live mode end to end: the simulated sensor measuring in paused (virtual) time, the
//! production live code above the `Peripheral` trait, and the real store. Expected numbers come
//! from the script: a reading every 5 minutes, the history up to +120 min already in the sensor.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Europe::Paris;
use ilot_ble::sim::{self, LiveScript, Quirk, SimClock, SimDevice};
use ilot_ble::{Backfill, BackfillReason, BleError, LiveOptions, LiveReport, live};
use ilot_domain::{EntryKind, GlucoseLevel, SourceKind};
use ilot_store::Store;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const START: &str = "2026-06-01T06:00:00Z";
/// Minutes of history in the sensor when live starts: offsets 0, 5, …, 120 (25 records).
const HISTORY_MIN: u16 = 120;

fn sensor(script: LiveScript, quirks: &[Quirk]) -> SimDevice {
    let start = utc(START);
    let now = start + TimeDelta::minutes(i64::from(HISTORY_MIN));
    SimDevice::cgm(
        &sim::cgm_history(HISTORY_MIN),
        start,
        SimClock::Local(Paris),
        now,
        quirks,
    )
    .with_live(script)
}

/// Live for just over `readings` intervals of 5 minutes.
fn opts(readings: u32) -> LiveOptions {
    let now = utc(START) + TimeDelta::minutes(i64::from(HISTORY_MIN));
    let mut o = LiveOptions::new(
        now,
        Paris,
        Duration::from_secs(u64::from(readings) * 300 + 60),
    );
    o.reconnect_delay = Duration::from_secs(60);
    o.download.batch_size = 5;
    o
}

/// Stored CGM readings as (minutes after the session start, mg/dL), in record-number order,
/// checking that each record number appears once.
fn readings(store: &Store) -> Vec<(i64, f64)> {
    let all = store.entries(None, None, Some("glucose"), true).unwrap();
    let mut rows: Vec<(u32, i64, f64)> = all
        .iter()
        .map(|e| {
            let mg = match &e.entry.kind {
                EntryKind::Glucose(g) => match g.level {
                    GlucoseLevel::Value(v) => v.mg_dl(),
                    ref l => panic!("{l:?}"),
                },
                k => panic!("{k:?}"),
            };
            let minutes = (e.entry.at_utc() - utc(START)).num_minutes();
            (e.entry.source.record_number.unwrap(), minutes, mg)
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    let mut numbers: Vec<u32> = rows.iter().map(|r| r.0).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), rows.len(), "a record number stored twice");
    // Record numbers are the session base + the time offset.
    for r in &rows {
        assert_eq!(
            i64::from(r.0 - rows[0].0),
            r.1,
            "record {} at +{} min",
            r.0,
            r.1
        );
    }
    rows.into_iter().map(|r| (r.1, r.2)).collect()
}

/// The simulator's glucose at offset `m` minutes: its 12-step wave, one step per 5 minutes.
fn wave(m: i64) -> f64 {
    const PATTERN: [f64; 12] = [
        96.0, 142.0, 188.0, 236.0, 171.0, 118.0, 72.0, 104.0, 153.0, 210.0, 131.0, 88.0,
    ];
    PATTERN[((m / 5) % 12) as usize]
}

/// Every 5 minutes from 0 to `last` inclusive, with the simulator's values.
fn every_5_min_to(last: i64) -> Vec<(i64, f64)> {
    (0..=last / 5).map(|k| (k * 5, wave(k * 5))).collect()
}

fn base(store: &Store) -> u32 {
    store
        .entries(None, None, Some("glucose"), true)
        .unwrap()
        .iter()
        .filter_map(|e| e.entry.source.record_number)
        .min()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn live_readings_are_stored_in_order_after_the_history() {
    let mut cgm = sensor(LiveScript::every(5), &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r: LiveReport = live(&mut cgm, &mut store, &opts(12)).await.unwrap();
    // The history (0…120) by one backfill, then 12 live readings (125…180).
    assert_eq!(readings(&store), every_5_min_to(180));
    assert_eq!(
        (r.connections, r.live_stored, r.live_duplicates),
        (1, 12, 0)
    );
    assert_eq!(
        r.backfills,
        vec![Backfill {
            reason: BackfillReason::Connected,
            from: None,
            to: None,
            records: 25
        }]
    );
    assert_eq!((r.totals.redundant, r.totals.readings_stored), (0, 37));
    assert!(r.bad_frames.is_empty(), "{:?}", r.bad_frames);
    assert_eq!((cgm.stats().records_sent, cgm.stats().live_sent), (25, 12));
    assert_eq!(r.totals.kind, Some(SourceKind::Cgm));
}

#[tokio::test(start_paused = true)]
async fn a_drop_then_reconnect_backfills_exactly_the_gap() {
    // Out of reach for readings 4, 5 and 6 (offsets 140, 145, 150).
    let mut script = LiveScript::every(5);
    script.outages = vec![(4, 6)];
    let mut cgm = sensor(script, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = live(&mut cgm, &mut store, &opts(12)).await.unwrap();
    assert_eq!(readings(&store), every_5_min_to(180));
    let b = base(&store);
    assert_eq!(r.connections, 2);
    assert_eq!(
        r.backfills[1],
        Backfill {
            reason: BackfillReason::Connected,
            from: Some(b + 136),
            to: None,
            records: 3
        }
    );
    // Frames on the link: 25 history + exactly the 3 missed records; 9 live readings.
    assert_eq!((cgm.stats().records_sent, cgm.stats().live_sent), (28, 9));
    assert_eq!((r.totals.redundant, r.totals.entries_duplicate), (0, 0));
    assert_eq!(r.live_stored, 9);
}

#[tokio::test(start_paused = true)]
async fn duplicate_live_notifications_are_stored_once() {
    let mut cgm = sensor(LiveScript::every(5), &[Quirk::Duplicates]);
    let mut store = Store::open_in_memory().unwrap();
    let r = live(&mut cgm, &mut store, &opts(12)).await.unwrap();
    assert_eq!(readings(&store), every_5_min_to(180));
    assert_eq!(cgm.stats().live_sent, 24);
    assert_eq!((r.live_stored, r.live_duplicates), (12, 12));
    // The backfill's duplicates are dropped before the store too.
    assert_eq!((r.totals.redundant, r.totals.entries_duplicate), (25, 0));
}

#[tokio::test(start_paused = true)]
async fn a_malformed_live_frame_is_reported_and_its_record_backfilled() {
    // Reading 3 (offset 135) arrives cut short; reading 4 reveals the gap.
    let mut script = LiveScript::every(5);
    script.malformed = vec![3];
    let mut cgm = sensor(script, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = live(&mut cgm, &mut store, &opts(12)).await.unwrap();
    assert_eq!(readings(&store), every_5_min_to(180));
    assert_eq!(r.bad_frames.len(), 1, "{:?}", r.bad_frames);
    assert!(
        r.bad_frames[0].contains("CGM Measurement (0x2AA7): truncated"),
        "{}",
        r.bad_frames[0]
    );
    let b = base(&store);
    assert_eq!(
        r.backfills[1],
        Backfill {
            reason: BackfillReason::Gap,
            from: Some(b + 131),
            to: Some(b + 139),
            records: 1
        }
    );
    // Only the damaged record crossed the link again; the held reading 4 was not re-sent.
    assert_eq!((cgm.stats().records_sent, r.totals.redundant), (26, 0));
    assert_eq!((r.live_stored, r.connections), (11, 1));
}

#[tokio::test(start_paused = true)]
async fn a_missed_notification_is_backfilled_on_the_next_reading() {
    let mut script = LiveScript::every(5);
    script.unsent = vec![2, 3];
    let mut cgm = sensor(script, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = live(&mut cgm, &mut store, &opts(12)).await.unwrap();
    assert_eq!(readings(&store), every_5_min_to(180));
    assert_eq!(r.backfills.len(), 2);
    assert_eq!(
        (r.backfills[1].reason, r.backfills[1].records),
        (BackfillReason::Gap, 2)
    );
    assert_eq!((cgm.stats().records_sent, cgm.stats().live_sent), (27, 10));
    assert_eq!(r.totals.redundant, 0);
}

#[tokio::test(start_paused = true)]
async fn live_resumes_after_what_a_download_stored() {
    let mut store = Store::open_in_memory().unwrap();
    let mut first = sensor(LiveScript::every(5), &[]);
    live(&mut first, &mut store, &opts(2)).await.unwrap();
    // A second live session against the same sensor memory an hour later: only the new ones.
    let start = utc(START);
    let now = start + TimeDelta::minutes(190);
    let mut cgm = SimDevice::cgm(
        &sim::cgm_history(190),
        start,
        SimClock::Local(Paris),
        now,
        &[],
    )
    .with_live(LiveScript::every(5));
    let mut o = opts(2);
    o.download.now = now;
    let r = live(&mut cgm, &mut store, &o).await.unwrap();
    // Stored up to 130 before; 135…190 are backfilled (12), then 195 and 200 live.
    assert_eq!(r.backfills[0].records, 12);
    assert_eq!(cgm.stats().records_sent, 12);
    assert_eq!(readings(&store), every_5_min_to(200));
}

#[tokio::test(start_paused = true)]
async fn live_on_a_meter_says_to_download_instead() {
    let now = utc(START);
    let hist = sim::meter_history(3, now - TimeDelta::hours(20), TimeDelta::hours(8));
    let mut meter = SimDevice::meter(&hist, SimClock::Local(Paris), now, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let e = live(&mut meter, &mut store, &opts(1)).await.unwrap_err();
    assert!(matches!(e, BleError::NotCgm), "{e}");
    assert!(e.to_string().contains("use `ilot ble download`"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_sensor_out_of_reach_too_long_gives_up_keeping_what_came() {
    let mut script = LiveScript::every(5);
    script.outages = vec![(2, 1000)];
    let mut cgm = sensor(script, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let mut o = opts(30);
    o.max_reconnects = 3;
    let e = live(&mut cgm, &mut store, &o).await.unwrap_err();
    assert!(matches!(e, BleError::GaveUp { attempts: 4, .. }), "{e}");
    // History and reading 1 (offset 125) were stored before the drop.
    assert_eq!(readings(&store), every_5_min_to(125));
}

#[tokio::test(start_paused = true)]
async fn a_gap_on_a_sensor_without_range_falls_back_to_at_least() {
    // Reading 3 never notified; the sensor refuses "within range", so the backfill asks
    // "≥ 135": the held reading 4 comes again once and is not stored twice.
    let mut script = LiveScript::every(5);
    script.unsent = vec![3];
    let mut cgm = sensor(script, &[Quirk::NoRange]);
    let mut store = Store::open_in_memory().unwrap();
    let r = live(&mut cgm, &mut store, &opts(12)).await.unwrap();
    assert_eq!(readings(&store), every_5_min_to(180));
    assert_eq!(r.backfills[1].records, 1);
    assert_eq!((r.totals.redundant, r.totals.entries_duplicate), (1, 0));
    assert_eq!(cgm.stats().records_sent, 27);
}
