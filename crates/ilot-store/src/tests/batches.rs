//! Time windows without a time index: through the batch map, after corrections that move
//! entries, with batches whose id ranges interleave, and with one manual entry per transaction.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{Entry, Source, SourceKind};

use super::*;
use crate::AddOutcome;

fn utc(s: &str) -> DateTime<Utc> {
    t(s).with_timezone(&Utc)
}

fn meter(at: &str, record: u32) -> Entry {
    glucose(
        at,
        1.0 + f64::from(record) / 100.0,
        GlucoseUnit::GramsPerLitre,
        Source::device(SourceKind::Meter, dev("roche:guide:1"), record),
    )
}

/// Ids of the glucose points in `[from, to)`, in the order the store gives them.
fn window(s: &Store, from: &str, to: &str) -> Vec<i64> {
    s.glucose_points(Some(utc(from)), Some(utc(to)))
        .unwrap()
        .iter()
        .map(|p| p.id as i64)
        .collect()
}

#[test]
fn a_correction_moves_an_entry_across_windows() {
    let mut s = store();
    let day1: Vec<Entry> = (0..10)
        .map(|i| cgm(&format!("2026-03-01T08:{:02}:00Z", i * 5), 100.0, i))
        .collect();
    let ids: Vec<i64> = s
        .add_batch(&day1, now())
        .unwrap()
        .ids
        .iter()
        .map(|i| i.unwrap())
        .collect();
    let mut moved = day1[4].clone();
    moved.at = t("2026-03-10T12:00:00Z");
    s.correct(ids[4], &moved, Some("sensor clock"), later(1))
        .unwrap();

    let mut day1_left = ids.clone();
    day1_left.remove(4);
    assert_eq!(
        window(&s, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
        day1_left
    );
    assert_eq!(
        window(&s, "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z"),
        vec![ids[4]]
    );
    let found = s
        .entries(Some(utc("2026-03-10T00:00:00Z")), None, None, false)
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].entry, moved);
    assert_eq!(
        s.last_entry_at().unwrap(),
        Some(utc("2026-03-10T12:00:00Z"))
    );

    // Moving it back, and earlier than the whole batch, keeps every window right.
    let mut back = day1[4].clone();
    back.at = t("2026-02-28T23:00:00Z");
    s.correct(ids[4], &back, None, later(2)).unwrap();
    assert!(window(&s, "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z").is_empty());
    assert_eq!(
        window(&s, "2026-02-28T00:00:00Z", "2026-03-01T08:05:00Z"),
        vec![ids[4], ids[0]]
    );
    assert_eq!(
        s.last_entry_at().unwrap(),
        Some(utc("2026-03-01T08:45:00Z"))
    );
    // The batch's time range widened and never narrowed.
    assert_eq!(
        rows(
            &s,
            &format!(
                "SELECT count(*) FROM batches WHERE min_at_ms = {} AND max_at_ms = {}",
                utc("2026-02-28T23:00:00Z").timestamp_millis(),
                utc("2026-03-10T12:00:00Z").timestamp_millis()
            )
        ),
        1
    );
}

#[test]
fn backfilled_records_interleave_with_earlier_batches() {
    let mut s = store();
    // The meter's odd records first, then (another download) the even ones, older and newer:
    // the two batches' id ranges overlap.
    let odd: Vec<Entry> = [1u32, 3, 5, 7]
        .iter()
        .map(|&n| meter(&format!("2026-03-0{n}T08:00:00Z"), n))
        .collect();
    let even: Vec<Entry> = [8u32, 2, 6, 4]
        .iter()
        .map(|&n| meter(&format!("2026-03-0{n}T08:00:00Z"), n))
        .collect();
    let odd_ids = s.add_batch(&odd, now()).unwrap().ids;
    // CGM data in between, then the backfill.
    let cgm_ids = s
        .add_batch(
            &[
                cgm("2026-03-02T09:00:00Z", 150.0, 1),
                cgm("2026-03-05T09:00:00Z", 160.0, 2),
            ],
            now(),
        )
        .unwrap()
        .ids;
    let even_ids = s.add_batch(&even, later(1)).unwrap().ids;
    let id_of = |n: u32| -> i64 {
        let (ids, pos) = if n % 2 == 1 {
            (&odd_ids, [1, 3, 5, 7].iter().position(|&m| m == n))
        } else {
            (&even_ids, [8, 2, 6, 4].iter().position(|&m| m == n))
        };
        ids[pos.unwrap()].unwrap()
    };
    assert_eq!(
        window(&s, "2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"),
        vec![
            id_of(2),
            cgm_ids[0].unwrap(),
            id_of(3),
            id_of(4),
            id_of(5),
            cgm_ids[1].unwrap()
        ]
    );
    let all = s.glucose_points(None, None).unwrap();
    assert_eq!(all.len(), 10, "each entry once");
    assert!(
        all.windows(2)
            .all(|w| (w[0].at, w[0].id) < (w[1].at, w[1].id))
    );
    assert_eq!(
        s.entries(Some(utc("2026-03-07T00:00:00Z")), None, None, false)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        vec![id_of(7), id_of(8)]
    );
    assert_eq!(
        s.last_entry_at().unwrap(),
        Some(utc("2026-03-08T08:00:00Z"))
    );
    s.delete(id_of(8), None, later(2)).unwrap();
    assert_eq!(
        s.last_entry_at().unwrap(),
        Some(utc("2026-03-07T08:00:00Z"))
    );
}

#[test]
fn manual_entries_one_per_transaction_are_found_by_time() {
    let mut s = store();
    // 40 manual readings, entered out of time order, each in its own transaction.
    let minutes: Vec<i64> = (0..40).map(|i| (i * 17) % 40 * 30).collect();
    let start = utc("2026-03-01T00:00:00Z");
    let mut by_minute = Vec::new();
    for &m in &minutes {
        let at = (start + TimeDelta::minutes(m)).fixed_offset();
        let e = Entry {
            at,
            ..glucose(
                "2026-03-01T00:00:00Z",
                1.0,
                GlucoseUnit::GramsPerLitre,
                Source::manual(),
            )
        };
        let AddOutcome::Added(id) = s.add(&e, now()).unwrap() else {
            panic!()
        };
        by_minute.push((m, id));
    }
    // Counter ids: each next one is the highest so far plus one.
    let ids: Vec<i64> = by_minute.iter().map(|&(_, id)| id).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert_eq!(rows(&s, "SELECT count(*) FROM batches"), 40);

    by_minute.sort();
    let expect = |from: i64, to: i64| -> Vec<i64> {
        by_minute
            .iter()
            .filter(|&&(m, _)| m >= from && m < to)
            .map(|&(_, id)| id)
            .collect()
    };
    let got = |from: i64, to: i64| -> Vec<i64> {
        s.glucose_points(
            Some(start + TimeDelta::minutes(from)),
            Some(start + TimeDelta::minutes(to)),
        )
        .unwrap()
        .iter()
        .map(|p| p.id as i64)
        .collect()
    };
    for (from, to) in [
        (0, 1200),
        (0, 30),
        (29, 31),
        (300, 600),
        (1170, 1171),
        (45, 46),
    ] {
        assert_eq!(got(from, to), expect(from, to), "[{from}, {to})");
    }
}

#[test]
fn a_large_batch_is_cut_into_batch_map_rows_and_windows_stay_exact() {
    let mut s = store();
    let start = t("2026-01-01T00:00:00Z");
    let n = 3000;
    let batch: Vec<Entry> = (0..n)
        .map(|i| Entry {
            at: start + TimeDelta::minutes(i64::from(i)),
            ..cgm("2026-01-01T00:00:00Z", 100.0, i)
        })
        .collect();
    let ids = s.add_batch(&batch, now()).unwrap().ids;
    assert_eq!(
        rows(&s, "SELECT count(*) FROM batches"),
        3,
        "1024 + 1024 + 952"
    );
    // A window across the cut between the first two batch-map rows.
    let from = utc("2026-01-01T17:00:00Z");
    let got = s
        .glucose_points(Some(from), Some(from + TimeDelta::minutes(10)))
        .unwrap();
    let expect: Vec<u64> = (1020..1030).map(|i| ids[i].unwrap() as u64).collect();
    assert_eq!(got.iter().map(|p| p.id).collect::<Vec<_>>(), expect);
    assert_eq!(s.glucose_points(None, None).unwrap().len(), n as usize);
}
