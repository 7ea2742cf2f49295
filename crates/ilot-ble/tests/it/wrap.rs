//! GLS sequence numbers past 65535, through the simulated meter, the production download and
//! the real store: the stored record number is epoch × 65536 + sequence (`ilot_ble::seq`), so a
//! wrapped meter neither collides with its old records nor stalls its cursor, and incremental
//! downloads still fetch only the new records.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Europe::Paris;
use ilot_ble::sim::{self, MeterRecord, Quirk, SimClock, SimDevice};
use ilot_ble::{Options, Report, download};
use ilot_domain::{DeviceId, EntryKind, SourceKind};
use ilot_store::Store;

const WRAP: u32 = 1 << 16;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn t0() -> DateTime<Utc> {
    utc("2026-06-01T06:00:00Z")
}

/// Records `skip..skip + n` of a meter whose record 0 is sequence `first_seq` at `t0`, one
/// every 8 h, sequences wrapping past 65535.
fn records(first_seq: u16, skip: u32, n: u32) -> Vec<MeterRecord> {
    let all = sim::meter_history_from(first_seq, skip + n, t0(), TimeDelta::hours(8));
    all[skip as usize..].to_vec()
}

/// Host time just after the `i`-th record (0-based) since `t0`.
fn after(i: u32) -> DateTime<Utc> {
    t0() + TimeDelta::hours(8) * i as i32 + TimeDelta::minutes(10)
}

fn opts(now: DateTime<Utc>) -> Options {
    let mut o = Options::new(now, Paris);
    o.batch_size = 5;
    o
}

/// A meter on Paris time holding records `0..n` from sequence `first_seq`, just after the last.
fn meter(first_seq: u16, n: u32, quirks: &[Quirk]) -> SimDevice {
    SimDevice::meter(
        &records(first_seq, 0, n),
        SimClock::Local(Paris),
        after(n - 1),
        quirks,
    )
}

/// One download through the production code at host time `after(at)`.
async fn fetch(meter: &mut SimDevice, store: &mut Store, at: u32) -> Report {
    download(meter, store, &opts(after(at))).await.unwrap()
}

fn meter_id() -> DeviceId {
    DeviceId::new("ilot-sim:meter-gls:SIM-METER-0001").unwrap()
}

/// (record number, instant) of every stored reading, sorted, each number once.
fn stored(store: &Store) -> Vec<(u32, DateTime<Utc>)> {
    let mut v: Vec<_> = store
        .entries(None, None, Some("glucose"), true)
        .unwrap()
        .into_iter()
        .map(|e| (e.entry.source.record_number.unwrap(), e.entry.at_utc()))
        .collect();
    v.sort();
    let before = v.len();
    v.dedup_by_key(|r| r.0);
    assert_eq!(v.len(), before, "a record number stored twice");
    v
}

/// What the store must hold: record numbers `from..from + n` (epoch folded in), 8 h apart from
/// `t0`.
fn expected(from: u32, n: u32) -> Vec<(u32, DateTime<Utc>)> {
    (0..n)
        .map(|i| (from + i, t0() + TimeDelta::hours(8) * i as i32))
        .collect()
}

fn cursor(store: &Store) -> Option<u32> {
    store
        .last_record_number(SourceKind::Meter, &meter_id())
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn incremental_downloads_across_the_wrap_fetch_only_new_records() {
    // 65500…65529, then 40 more: 65530…65535 and 0…33, then 5 more: 34…38.
    let mut meter = meter(65_500, 30, &[]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 29).await;
    assert_eq!(cursor(&store), Some(65_529));

    meter.advance(after(69), &records(65_500, 30, 40));
    let sent = meter.stats().records_sent;
    let r = fetch(&mut meter, &mut store, 69).await;
    assert_eq!((r.records, r.redundant, r.readings_stored), (40, 0, 40));
    assert_eq!(
        meter.stats().records_sent - sent,
        40,
        "zero redundant records on the link"
    );
    assert_eq!(cursor(&store), Some(WRAP + 33));

    meter.advance(after(74), &records(65_500, 70, 5));
    let sent = meter.stats().records_sent;
    let writes = meter.stats().racp_writes;
    let r = fetch(&mut meter, &mut store, 74).await;
    assert_eq!((r.records, r.redundant), (5, 0));
    assert_eq!(meter.stats().records_sent - sent, 5);
    // Cursor at sequence 33: the window does not reach 65535, one request is enough.
    assert_eq!(meter.stats().racp_writes - writes, 1);
    assert_eq!(stored(&store), expected(65_500, 75));
}

#[tokio::test(start_paused = true)]
async fn a_cursor_at_65535_asks_only_for_the_wrapped_part() {
    let mut meter = meter(65_506, 30, &[]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 29).await;
    assert_eq!(cursor(&store), Some(65_535));
    meter.advance(after(39), &records(65_506, 30, 10));
    let (sent, writes) = (meter.stats().records_sent, meter.stats().racp_writes);
    let r = fetch(&mut meter, &mut store, 39).await;
    assert_eq!((r.records, r.redundant), (10, 0));
    assert_eq!(meter.stats().records_sent - sent, 10);
    assert_eq!(meter.stats().racp_writes - writes, 1);
    assert_eq!(stored(&store), expected(65_506, 40));
    assert_eq!(cursor(&store), Some(WRAP + 9));
}

#[tokio::test(start_paused = true)]
async fn nothing_new_near_the_wrap_costs_two_empty_answers_and_no_record() {
    let mut meter = meter(65_000, 20, &[]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 19).await;
    let (sent, writes) = (meter.stats().records_sent, meter.stats().racp_writes);
    let r = fetch(&mut meter, &mut store, 19).await;
    assert_eq!((r.records, r.entries_added), (0, 0));
    assert_eq!(meter.stats().records_sent - sent, 0);
    assert_eq!(meter.stats().racp_writes - writes, 2);
    assert_eq!(stored(&store), expected(65_000, 20));
}

#[tokio::test(start_paused = true)]
async fn a_first_download_of_a_wrapped_memory_numbers_both_sides() {
    // The meter holds 65520…65535 and 0…9, oldest first.
    let mut meter = meter(65_520, 26, &[]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, 25).await;
    assert_eq!((r.records, r.readings_stored), (26, 26));
    assert_eq!(stored(&store), expected(65_520, 26));
    meter.advance(after(28), &records(65_520, 26, 3));
    let sent = meter.stats().records_sent;
    let r = fetch(&mut meter, &mut store, 28).await;
    assert_eq!((r.records, r.redundant), (3, 0));
    assert_eq!(meter.stats().records_sent - sent, 3);
    assert_eq!(stored(&store), expected(65_520, 29));
}

#[tokio::test(start_paused = true)]
async fn newest_first_across_the_wrap_is_renumbered_before_storing() {
    let mut meter = meter(65_520, 26, &[Quirk::Reversed]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 25).await;
    assert_eq!(stored(&store), expected(65_520, 26));
    // Context records (carbohydrates) follow their reading's new number.
    let carbs: Vec<u32> = store
        .entries(None, None, Some("carbs"), true)
        .unwrap()
        .iter()
        .map(|e| e.entry.source.record_number.unwrap())
        .collect();
    let glucose: Vec<u32> = stored(&store).iter().map(|r| r.0).collect();
    assert!(
        !carbs.is_empty() && carbs.iter().all(|c| glucose.contains(c)),
        "{carbs:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_drop_just_after_the_wrap_resumes_in_the_new_epoch() {
    // 26 records across the wrap; the link drops after 20 (65520…65535, 0…3 stored).
    let mut meter = meter(65_520, 26, &[Quirk::DropsAfter(20)]);
    let mut store = Store::open_in_memory().unwrap();
    let r = fetch(&mut meter, &mut store, 25).await;
    assert_eq!((r.attempts, r.records, r.redundant), (2, 26, 0));
    assert_eq!(meter.stats().records_sent, 26);
    assert_eq!(stored(&store), expected(65_520, 26));
}

#[tokio::test(start_paused = true)]
async fn contour_resending_everything_across_the_wrap_adds_only_the_new() {
    let mut meter = meter(65_520, 10, &[Quirk::ResendsAll]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 9).await;
    meter.advance(after(29), &records(65_520, 10, 20));
    let r = fetch(&mut meter, &mut store, 29).await;
    assert_eq!((r.records, r.redundant, r.conflicts), (20, 10, 0));
    assert_eq!(stored(&store), expected(65_520, 30));
}

#[tokio::test(start_paused = true)]
async fn glucose_of_a_wrapped_record_is_the_meters() {
    // Sequence 2 of the new epoch: the simulator's wave at i = 2 is 188 mg/dL.
    let mut meter = meter(65_534, 5, &[]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 4).await;
    let e = store
        .entries(None, None, Some("glucose"), true)
        .unwrap()
        .into_iter()
        .find(|e| e.entry.source.record_number == Some(WRAP + 2))
        .unwrap();
    match e.entry.kind {
        EntryKind::Glucose(g) => assert_eq!(g.level.mg_dl(), Some(188.0)),
        k => panic!("{k:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn after_a_wrap_a_meter_without_range_is_asked_at_least_and_filtered_here() {
    // Memory 65520…65535, 0…9 stored; 3 new. The meter refuses "within range", so "≥ 10" also
    // returns the old epoch's 65520…65535: they cross the link once more, none is stored again.
    let mut meter = meter(65_520, 26, &[Quirk::NoRange]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 25).await;
    meter.advance(after(28), &records(65_520, 26, 3));
    let r = fetch(&mut meter, &mut store, 28).await;
    assert_eq!((r.records, r.redundant, r.entries_duplicate), (3, 16, 0));
    assert_eq!(stored(&store), expected(65_520, 29));
}

#[tokio::test(start_paused = true)]
async fn after_a_wrap_a_meter_without_any_filter_is_asked_for_all() {
    let mut meter = meter(65_520, 26, &[Quirk::NoFilter]);
    let mut store = Store::open_in_memory().unwrap();
    fetch(&mut meter, &mut store, 25).await;
    meter.advance(after(28), &records(65_520, 26, 3));
    let r = fetch(&mut meter, &mut store, 28).await;
    assert_eq!((r.records, r.redundant, r.entries_duplicate), (3, 26, 0));
    assert_eq!(stored(&store), expected(65_520, 29));
}
