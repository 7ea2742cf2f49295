//! The store as a download's sink: the cursor a download starts after is one SQL query on the
//! store's keys, not a pass over every entry (the app asks for it twice per download, and the
//! background poll every 10 minutes, on stores holding years of CGM).

use chrono::{DateTime, TimeDelta, Utc};
use ilot_ble::RecordSink;
use ilot_domain::{DeviceId, Entry, EntryKind, Glucose, GlucoseReading, MealContext, Note};
use ilot_domain::{Source, SourceKind};
use ilot_store::Store;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn reading(source: Source, i: u32, reading: fn(Glucose) -> GlucoseReading) -> Entry {
    Entry {
        at: DateTime::parse_from_rfc3339("2026-01-01T00:00:00+01:00").unwrap()
            + TimeDelta::minutes(i64::from(i)),
        source,
        kind: EntryKind::Glucose(reading(
            Glucose::from_mg_dl(90.0 + f64::from(i % 100)).unwrap(),
        )),
    }
}

fn capillary(g: Glucose) -> GlucoseReading {
    GlucoseReading::capillary(g, MealContext::Other)
}

/// A meter's records 1..=n, the last one a note (a record that gave no reading counts too).
fn meter_records(meter: &DeviceId, n: u32) -> Vec<Entry> {
    let mut v: Vec<Entry> = (1..n)
        .map(|i| {
            reading(
                Source::device(SourceKind::Meter, meter.clone(), i),
                i,
                capillary,
            )
        })
        .collect();
    v.push(Entry {
        kind: EntryKind::Note(Note::new("meter record: no glucose stored").unwrap()),
        ..reading(
            Source::device(SourceKind::Meter, meter.clone(), n),
            n,
            capillary,
        )
    });
    v
}

fn cgm(sensor: &DeviceId, n: u32) -> Vec<Entry> {
    (1..=n)
        .map(|i| {
            reading(
                Source::device(SourceKind::Cgm, sensor.clone(), i),
                i,
                GlucoseReading::cgm,
            )
        })
        .collect()
}

#[test]
fn the_cursor_costs_the_same_in_a_full_store_as_in_an_almost_empty_one() {
    let meter = DeviceId::new("ilot-sim:meter-gls:SIM-METER-0001").unwrap();
    let sensor = DeviceId::new("ilot-sim:cgm:SIM-CGM-0001").unwrap();
    let mut small = Store::open_in_memory().unwrap();
    small.add_batch(&meter_records(&meter, 3), now()).unwrap();
    // 30 days of one-minute CGM beside 5,000 of the meter's records, the newest deleted by the
    // person (a deleted record still moves the cursor: it must not come back).
    let mut big = Store::open_in_memory().unwrap();
    big.add_batch(&cgm(&sensor, 43_200), now()).unwrap();
    big.add_batch(&meter_records(&meter, 5_000), now()).unwrap();
    let newest = big
        .add(
            &reading(
                Source::device(SourceKind::Meter, meter.clone(), 5_001),
                5_001,
                capillary,
            ),
            now(),
        )
        .unwrap();
    let ilot_store::AddOutcome::Added(newest) = newest else {
        panic!("{newest:?}")
    };
    big.delete(newest, Some("test"), now()).unwrap();

    let cursor = |s: &Store| RecordSink::last_record_number(s, SourceKind::Meter, &meter).unwrap();
    let (at_small, steps_small) = small.count_vm_steps(cursor).unwrap();
    let (at_big, steps_big) = big.count_vm_steps(cursor).unwrap();
    assert_eq!((at_small, at_big), (Some(3), Some(5_001)));
    assert!(
        steps_big <= steps_small,
        "the download cursor reads the store: {steps_small} SQLite steps with 3 entries, \
         {steps_big} with 48,201"
    );
}
