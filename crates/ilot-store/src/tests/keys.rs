//! Entry ids as dedup keys: their bounds, and what counts as the same import row.

use ilot_domain::{Entry, Source, SourceKind};

use super::*;
use crate::{AddOutcome, StoreError};

fn added(outcome: AddOutcome) -> i64 {
    match outcome {
        AddOutcome::Added(id) => id,
        other => panic!("not added: {other:?}"),
    }
}

fn imported(origin: &str, at: &str, g_l: f64) -> Entry {
    glucose(
        at,
        g_l,
        GlucoseUnit::GramsPerLitre,
        Source::import(dev(origin)),
    )
}

#[test]
fn a_database_takes_511_sources_and_refuses_the_512th_with_a_message() {
    let mut s = store();
    let batch: Vec<Entry> = (0..511)
        .map(|i| imported(&format!("csv:origin:{i}"), "2026-03-01T08:00:00Z", 1.0))
        .collect();
    assert_eq!(s.add_batch(&batch, now()).unwrap().added, 511);
    let last = imported("csv:origin:510", "2026-03-01T09:00:00Z", 1.1);
    let id = added(s.add(&last, now()).unwrap());
    // Number.MAX_SAFE_INTEGER: the UI gets ids as JSON numbers.
    assert!(id <= 9_007_199_254_740_991, "{id}");
    assert_eq!(s.get(id).unwrap().unwrap().entry, last);

    let e = s
        .add(
            &imported("csv:origin:511", "2026-03-01T08:00:00Z", 1.0),
            now(),
        )
        .unwrap_err();
    assert!(matches!(e, StoreError::TooManySources), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("511 entry sources") && msg.contains("group imports under fewer origin"),
        "{msg}"
    );
    assert_eq!(rows(&s, "SELECT count(*) FROM sources"), 511);
    // Known sources still take new entries.
    added(
        s.add(
            &imported("csv:origin:3", "2026-03-02T08:00:00Z", 1.2),
            now(),
        )
        .unwrap(),
    );
}

#[test]
fn record_numbers_cover_the_whole_u32_range() {
    let mut s = store();
    let ends = [
        cgm("2026-03-01T08:00:00Z", 100.0, 0),
        cgm("2026-03-01T08:05:00Z", 101.0, u32::MAX),
    ];
    let report = s.add_batch(&ends, now()).unwrap();
    assert_eq!(report.added, 2);
    let top = report.ids[1].unwrap();
    assert_eq!(s.get(top).unwrap().unwrap().entry, ends[1]);
    assert_eq!(
        s.add(&ends[1], later(1)).unwrap(),
        AddOutcome::Duplicate(top)
    );
    assert_eq!(
        s.last_record_number(SourceKind::Cgm, &dev("dexcom:g7:abc"))
            .unwrap(),
        Some(u32::MAX)
    );
    assert!(top <= 9_007_199_254_740_991);
}

#[test]
fn import_times_from_1900_to_2200_are_keys_and_earlier_ones_are_refused() {
    let mut s = store();
    let in_2200 = t("2200-01-01T00:00:00Z").with_timezone(&chrono::Utc);
    let first = imported("csv:old", "1900-01-01T00:00:00Z", 1.0);
    let last = imported("csv:old", "2200-01-01T00:00:00Z", 1.0);
    let a = added(s.add(&first, in_2200).unwrap());
    let b = added(s.add(&last, in_2200).unwrap());
    assert_eq!(s.get(a).unwrap().unwrap().entry, first);
    assert_eq!(s.get(b).unwrap().unwrap().entry, last);
    assert_eq!(s.add(&last, in_2200).unwrap(), AddOutcome::Duplicate(b));
    assert!(a <= 9_007_199_254_740_991 && b <= 9_007_199_254_740_991);

    let before = imported("csv:old", "1899-12-31T23:59:59Z", 1.0);
    let e = s.add(&before, in_2200).unwrap_err();
    assert!(matches!(e, StoreError::TimeOutOfRange(_)), "{e}");
    assert!(e.to_string().contains("outside 1900-2200"), "{e}");
    let after = imported("csv:old", "2200-01-01T00:00:00.001Z", 1.0);
    let e = s
        .add(&after, in_2200 + chrono::TimeDelta::hours(1))
        .unwrap_err();
    assert!(e.to_string().contains("CHECK"), "{e}");
    assert_eq!(s.count_entries().unwrap(), 2);
}

#[test]
fn two_rows_of_one_import_origin_in_the_same_second_are_one_key() {
    let mut s = store();
    let a = imported("csv:libreview", "2026-03-01T08:00:00.200+01:00", 1.26);
    let id = added(s.add(&a, now()).unwrap());
    // Identical to the millisecond: the same row imported again.
    assert_eq!(s.add(&a, now()).unwrap(), AddOutcome::Duplicate(id));
    // Same second, another millisecond or value: a conflict, reported, nothing overwritten.
    let same_value = imported("csv:libreview", "2026-03-01T08:00:00.700+01:00", 1.26);
    let other_value = imported("csv:libreview", "2026-03-01T08:00:00.200+01:00", 1.62);
    let report = s.add_batch(&[same_value, other_value], now()).unwrap();
    assert_eq!(report.conflicts, vec![(0, id), (1, id)]);
    assert_eq!(s.get(id).unwrap().unwrap().entry, a);
    // The next second, or another origin, is another row.
    let next = imported("csv:libreview", "2026-03-01T08:00:01+01:00", 1.26);
    let other = imported("csv:mysugr", "2026-03-01T08:00:00.700+01:00", 1.26);
    assert_eq!(s.add_batch(&[next, other], now()).unwrap().added, 2);
    assert_eq!(s.count_entries().unwrap(), 3);
}

#[test]
fn a_batch_is_stored_in_id_order_whatever_the_input_order() {
    let mut s = store();
    let records = [5u32, 3, 9, 1, 3];
    let batch: Vec<Entry> = records
        .iter()
        .map(|&n| cgm("2026-03-01T08:00:00Z", 100.0 + f64::from(n), n))
        .collect();
    let report = s.add_batch(&batch, now()).unwrap();
    // The second record 3 has the same time and value as the first: a duplicate, reported at
    // its own input index.
    assert_eq!((report.added, report.duplicates), (4, 1));
    assert_eq!(report.ids[1], report.ids[4]);
    let ids: Vec<i64> = report.ids.iter().map(|i| i.unwrap()).collect();
    for (i, &n) in records.iter().enumerate() {
        assert_eq!(
            s.get(ids[i]).unwrap().unwrap().entry.source.record_number,
            Some(n)
        );
    }
    // Item numbers follow ids: records 1, 3, 5, 9.
    let items: Vec<i64> = s
        .outbox_pending(10)
        .unwrap()
        .iter()
        .map(|i| match i.target {
            crate::OutboxTarget::Entry(id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(items, vec![ids[3], ids[1], ids[0], ids[2]]);
}

#[test]
fn a_device_without_record_numbers_gets_its_own_counter_source() {
    let mut s = store();
    let keyed = cgm("2026-03-01T08:00:00Z", 100.0, 0);
    let mut unkeyed = cgm("2026-03-01T08:05:00Z", 120.0, 0);
    unkeyed.source.record_number = None;
    let a = added(s.add(&keyed, now()).unwrap());
    // Never deduplicated, and never taken for the device's record 0 or 1.
    let b = added(s.add(&unkeyed, now()).unwrap());
    let c = added(s.add(&unkeyed, now()).unwrap());
    assert_eq!(
        s.add(&cgm("2026-03-01T08:00:00Z", 100.0, 0), now())
            .unwrap(),
        AddOutcome::Duplicate(a)
    );
    assert!(matches!(
        s.add(&cgm("2026-03-01T08:10:00Z", 130.0, 1), now())
            .unwrap(),
        AddOutcome::Added(_)
    ));
    assert_eq!(s.get(b).unwrap().unwrap().entry, unkeyed);
    assert_eq!(s.get(c).unwrap().unwrap().entry, unkeyed);
    assert_eq!(s.count_entries().unwrap(), 4);
    assert_eq!(
        s.last_record_number(SourceKind::Cgm, &dev("dexcom:g7:abc"))
            .unwrap(),
        Some(1)
    );
}
