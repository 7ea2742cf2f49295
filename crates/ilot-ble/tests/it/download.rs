//! End to end: the simulated meter and CGM, the production download code above the
//! `Peripheral` trait, and the real store (in memory, same migrations as a file). Time is tokio's
//! paused clock, so the 7.5 ms connection interval costs nothing here.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Europe::Paris;
use ilot_ble::gatt::ids;
use ilot_ble::link::Peripheral;
use ilot_ble::sim::{self, MeterRecord, Quirk, SimClock, SimDevice};
use ilot_ble::{BleError, Options, Report, download};
use ilot_domain::{DeviceId, EntryKind, GlucoseLevel, ReadingType, SourceKind};
use ilot_store::Store;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const T0: &str = "2026-06-01T06:00:00Z";

fn history(n: u16) -> Vec<MeterRecord> {
    sim::meter_history(n, utc(T0), TimeDelta::hours(8))
}

/// Host time just after record `n` was measured.
fn after(n: u16) -> DateTime<Utc> {
    utc(T0) + TimeDelta::hours(8) * i32::from(n - 1) + TimeDelta::minutes(10)
}

fn opts(now: DateTime<Utc>) -> Options {
    let mut o = Options::new(now, Paris);
    o.batch_size = 5;
    o
}

/// A meter on Paris time holding records 1..=n, read just after the last one.
fn meter(n: u16, quirks: &[Quirk]) -> SimDevice {
    SimDevice::meter(&history(n), SimClock::Local(Paris), after(n), quirks)
}

/// One download through the production code at host time `now`.
async fn fetch(meter: &mut SimDevice, store: &mut Store, now: DateTime<Utc>) -> Report {
    download(meter, store, &opts(now)).await.unwrap()
}

fn meter_id() -> DeviceId {
    DeviceId::new("ilot-sim:meter-gls:SIM-METER-0001").unwrap()
}

struct Counts {
    glucose: usize,
    carbs: usize,
    notes: usize,
    numbers: Vec<u32>,
}

fn counts(store: &Store) -> Counts {
    let all = store.entries(None, None, None, true).unwrap();
    let of = |k: &str| all.iter().filter(|e| e.entry.kind.name() == k).count();
    let mut numbers: Vec<u32> = all
        .iter()
        .filter(|e| matches!(e.entry.kind, EntryKind::Glucose(_)))
        .filter_map(|e| e.entry.source.record_number)
        .collect();
    numbers.sort_unstable();
    Counts {
        glucose: of("glucose"),
        carbs: of("carbs"),
        notes: of("note"),
        numbers,
    }
}

fn notes(store: &Store) -> Vec<String> {
    store
        .entries(None, None, Some("note"), true)
        .unwrap()
        .into_iter()
        .map(|e| match e.entry.kind {
            EntryKind::Note(n) => n.text().to_string(),
            _ => unreachable!(),
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn first_download_stores_every_record_with_its_context() {
    let now = after(30);
    let mut meter = meter(30, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!(r.device, Some(meter_id()));
    assert_eq!(
        (r.records, r.readings_stored, r.redundant, r.attempts),
        (30, 30, 0, 1)
    );
    assert_eq!(r.requested_from, None);
    assert_eq!(meter.stats().records_sent, 30);
    let c = counts(&store);
    // Carbohydrates on every sixth record: 6, 12, 18, 24, 30.
    assert_eq!((c.glucose, c.carbs, c.notes), (30, 5, 0));
    assert_eq!(c.numbers, (1..=30).collect::<Vec<_>>());
    // Record 1: 142 mg/dL (the simulator's wave at i = 1), at T0, capillary.
    let first = store
        .entries(None, None, Some("glucose"), false)
        .unwrap()
        .remove(0);
    assert_eq!(first.entry.at_utc(), utc(T0));
    assert_eq!(
        first.entry.at.offset().local_minus_utc(),
        7200,
        "June in Paris is UTC+2"
    );
    match first.entry.kind {
        EntryKind::Glucose(g) => {
            assert_eq!(g.level.mg_dl(), Some(142.0));
            assert_eq!(g.reading_type, ReadingType::Capillary);
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        store
            .last_record_number(SourceKind::Meter, &meter_id())
            .unwrap(),
        Some(30)
    );
}

#[tokio::test(start_paused = true)]
async fn incremental_download_fetches_only_new_records() {
    let mut meter = meter(30, &[]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, after(30)).await;
    let sent = meter.stats().records_sent;

    let all = history(35);
    meter.advance(after(35), &all[30..]);
    let r = fetch(&mut meter, &mut store, after(35)).await;
    assert_eq!(r.requested_from, Some(31));
    assert_eq!((r.records, r.redundant, r.readings_stored), (5, 0, 5));
    assert_eq!(
        meter.stats().records_sent - sent,
        5,
        "zero redundant records on the link"
    );

    let sent = meter.stats().records_sent;
    let r = fetch(&mut meter, &mut store, after(35)).await;
    assert_eq!((r.records, r.entries_added), (0, 0));
    assert_eq!(
        meter.stats().records_sent - sent,
        0,
        "nothing new: nothing sent"
    );
    assert_eq!(counts(&store).numbers, (1..=35).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_drop_mid_transfer_resumes_with_nothing_lost_or_doubled() {
    let now = after(30);
    let mut meter = meter(30, &[Quirk::DropsAfter(12)]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!(r.attempts, 2);
    assert_eq!((r.records, r.redundant, r.entries_duplicate), (30, 0, 0));
    assert_eq!(meter.stats().connections, 2);
    // The 12 records before the drop were stored, so the resume asked for 13 on: 30 in all.
    assert_eq!(meter.stats().records_sent, 30);
    assert_eq!(counts(&store).numbers, (1..=30).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_drop_with_no_attempt_left_keeps_what_came_and_says_so() {
    let now = after(30);
    let mut meter = meter(30, &[Quirk::DropsAfter(12)]);
    let mut store = Store::open_in_memory().unwrap();
    let mut o = opts(now);
    o.max_attempts = 1;
    let e = download(&mut meter, &mut store, &o).await.unwrap_err();
    assert!(matches!(e, BleError::GaveUp { attempts: 1, .. }), "{e}");
    assert!(
        e.to_string().contains("run the download again to resume"),
        "{e}"
    );
    assert_eq!(counts(&store).numbers, (1..=12).collect::<Vec<_>>());
    // The next run resumes from 13.
    let r = download(&mut meter, &mut store, &o).await.unwrap();
    assert_eq!((r.requested_from, r.records), (Some(13), 18));
    assert_eq!(counts(&store).numbers, (1..=30).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn contour_resending_its_whole_history_adds_nothing_twice() {
    let mut meter = meter(30, &[Quirk::ResendsAll]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, after(30)).await;
    let all = history(35);
    meter.advance(after(35), &all[30..]);
    let r = fetch(&mut meter, &mut store, after(35)).await;
    assert_eq!(
        (r.records, r.redundant, r.conflicts, r.entries_duplicate),
        (5, 30, 0, 0)
    );
    assert_eq!(counts(&store).numbers, (1..=35).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn newest_first_with_a_drop_commits_nothing_early() {
    let now = after(30);
    let quirks = [Quirk::Reversed, Quirk::DropsAfter(10)];
    let mut meter = meter(30, &quirks);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!(r.attempts, 2);
    // Storing 30…21 before the drop would have moved the cursor past 1…20 for good.
    assert_eq!(counts(&store).numbers, (1..=30).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn duplicate_notifications_are_dropped_before_the_store() {
    let now = after(30);
    let mut meter = meter(30, &[Quirk::Duplicates]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!(meter.stats().records_sent, 60);
    assert_eq!((r.records, r.redundant, r.entries_duplicate), (30, 30, 0));
    let c = counts(&store);
    assert_eq!((c.glucose, c.carbs), (30, 5));
}

#[tokio::test(start_paused = true)]
async fn a_month_13_record_becomes_a_note_and_the_cursor_moves_on() {
    let now = after(30);
    let mut meter = meter(30, &[Quirk::Month13(7)]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!(r.readings_stored, 29);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].0, 7);
    assert!(
        r.rejected[0].1.contains("month 13 is out of range 1–12"),
        "{:?}",
        r.rejected
    );
    let n = notes(&store);
    assert_eq!(n.len(), 1);
    // Record 7 is 104 mg/dL (the simulator's wave at i = 7), sent as 104e-5 kg/L.
    assert!(
        n[0].starts_with("meter record 7: no glucose stored"),
        "{}",
        n[0]
    );
    assert!(
        n[0].contains("104e-5 kg/L (104 mg/dL) at 2026-13-"),
        "{}",
        n[0]
    );
    assert_eq!(
        store
            .last_record_number(SourceKind::Meter, &meter_id())
            .unwrap(),
        Some(30)
    );
}

#[tokio::test(start_paused = true)]
async fn a_meter_without_the_filter_is_asked_for_everything_and_filtered_here() {
    let mut meter = meter(30, &[Quirk::NoFilter]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, after(30)).await;
    let all = history(33);
    meter.advance(after(33), &all[30..]);
    let r = fetch(&mut meter, &mut store, after(33)).await;
    assert_eq!((r.records, r.redundant), (3, 30));
    assert_eq!(counts(&store).numbers, (1..=33).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_clock_hours_off_is_corrected_and_flagged() {
    let now = after(30);
    // CareSens: 3 h 20 min fast in June (Paris UTC+2): device − UTC = 5 h 20 min.
    let clock = SimClock::Offset(TimeDelta::minutes(320));
    let mut meter = SimDevice::meter(&history(30), clock, now, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!(r.clock_skew, Some(TimeDelta::minutes(200)));
    assert_eq!((r.readings_stored, r.corrected), (30, 30));
    let stored = store.entries(None, None, Some("glucose"), false).unwrap();
    let truth: Vec<_> = history(30).iter().map(|h| h.at).collect();
    assert_eq!(
        stored.iter().map(|e| e.entry.at_utc()).collect::<Vec<_>>(),
        truth
    );
    let n = notes(&store);
    assert_eq!(n.len(), 30);
    assert!(
        n[0].starts_with("meter record 1: time corrected by −3 h 20 min"),
        "{}",
        n[0]
    );
}

#[tokio::test(start_paused = true)]
async fn a_meter_that_ignores_dst_lands_right_on_both_sides_of_the_change() {
    // Records every 8 h from 2026-03-20 to 2026-04-06; the meter was set in winter (UTC+1) and
    // never moved to summer time. Downloaded on 2026-04-06, Paris is UTC+2.
    let first = utc("2026-03-20T07:00:00Z");
    let hist = sim::meter_history(52, first, TimeDelta::hours(8));
    let now = hist.last().unwrap().at + TimeDelta::minutes(5);
    let mut meter = SimDevice::meter(&hist, SimClock::Offset(TimeDelta::hours(1)), now, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!(r.readings_stored, 52);
    let stored = store.entries(None, None, Some("glucose"), false).unwrap();
    for (e, h) in stored.iter().zip(&hist) {
        assert_eq!(e.entry.at_utc(), h.at, "record {}", h.sequence);
        let summer = h.at >= utc("2026-03-29T01:00:00Z");
        assert_eq!(
            e.entry.at.offset().local_minus_utc(),
            if summer { 7200 } else { 3600 }
        );
    }
    // Only readings after the change show a different time than the meter did.
    let after_change = hist
        .iter()
        .filter(|h| h.at >= utc("2026-03-29T01:00:00Z"))
        .count() as u32;
    assert_eq!(r.corrected, after_change);
    assert_eq!(notes(&store).len() as u32, after_change);
}

#[tokio::test(start_paused = true)]
async fn a_right_dst_aware_clock_is_left_alone() {
    let now = after(30);
    let mut meter = meter(30, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, now).await;
    assert_eq!((r.corrected, r.clock_skew), (0, None));
}

#[tokio::test(start_paused = true)]
async fn cgm_backfill_then_only_the_gap() {
    let start = utc("2026-06-01T06:00:00Z");
    let now = start + TimeDelta::minutes(122);
    let mut cgm = SimDevice::cgm(
        &sim::cgm_history(120),
        start,
        SimClock::Local(Paris),
        now,
        &[],
    );
    let mut store = Store::open_in_memory().unwrap();
    let r = download(&mut cgm, &mut store, &opts(now)).await.unwrap();
    assert_eq!(
        (r.kind, r.records, r.readings_stored, r.corrected),
        (Some(SourceKind::Cgm), 25, 25, 0)
    );
    let stored = store.entries(None, None, Some("glucose"), false).unwrap();
    assert_eq!(stored[0].entry.at_utc(), start);
    assert_eq!(stored[24].entry.at_utc(), start + TimeDelta::minutes(120));
    match &stored[3].entry.kind {
        // Offset 15 → wave(3) = 236 mg/dL.
        EntryKind::Glucose(g) => {
            assert_eq!(
                g.level,
                GlucoseLevel::Value(ilot_domain::Glucose::from_mg_dl(236.0).unwrap())
            );
            assert_eq!(g.reading_type, ReadingType::Interstitial);
        }
        k => panic!("{k:?}"),
    }
    // An hour later the sensor has 12 more records; only those cross the link.
    let later = now + TimeDelta::minutes(60);
    let mut cgm = SimDevice::cgm(
        &sim::cgm_history(180),
        start,
        SimClock::Local(Paris),
        later,
        &[],
    );
    let r = download(&mut cgm, &mut store, &opts(later)).await.unwrap();
    assert_eq!((r.records, r.redundant), (12, 0));
    assert_eq!(cgm.stats().records_sent, 12);
    assert_eq!(
        store
            .entries(None, None, Some("glucose"), false)
            .unwrap()
            .len(),
        37
    );
}

#[tokio::test(start_paused = true)]
async fn the_simulator_refuses_racp_before_indications_like_a_real_meter() {
    let mut meter = meter(3, &[]);
    meter.connect().await.unwrap();
    let e = meter.write(ids::RACP, &[0x01, 0x01]).await.unwrap_err();
    assert!(e.to_string().contains("0xFD"), "{e}");
    meter.subscribe(ids::GLUCOSE_MEASUREMENT).await.unwrap();
    meter.subscribe(ids::RACP).await.unwrap();
    meter.write(ids::RACP, &[0x01, 0x01]).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_link_pace_is_one_frame_per_connection_interval() {
    let now = after(30);
    let mut meter = meter(30, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let t = tokio::time::Instant::now();
    fetch(&mut meter, &mut store, now).await;
    let frames = meter.stats().frames_sent;
    // 30 measurements + 10 context records (a meal on every third record; the carbohydrates of
    // every sixth share that record's context) + 1 RACP response.
    assert_eq!(frames, 30 + 10 + 1);
    // Tokio's timer wheel wakes on whole milliseconds: within 1 ms of frames × interval.
    let link = sim::DEFAULT_INTERVAL * frames;
    assert!(
        t.elapsed() >= link && t.elapsed() - link < std::time::Duration::from_millis(1),
        "{:?} vs {link:?}",
        t.elapsed()
    );
}
