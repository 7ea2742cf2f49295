use chrono::{DateTime, TimeZone, Utc};
use ilot_domain::MealContext;
use rstest::rstest;

use super::*;

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + TimeDelta::minutes(min)
}

fn point(min: i64, level: Level, cgm: bool) -> GlucosePoint {
    GlucosePoint {
        id: u64::try_from(min).unwrap() + if cgm { 0 } else { 100_000 },
        at: t(min),
        level,
        cgm,
        scan: false,
        context: MealContext::Other,
    }
}

fn cgm(min: i64, v: f64) -> GlucosePoint {
    point(min, Level::MgDl(v), true)
}

fn cap(min: i64, v: f64) -> GlucosePoint {
    point(min, Level::MgDl(v), false)
}

/// CGM readings every `step` minutes from minute `from` to `to` inclusive, all at `v`.
fn run(from: i64, to: i64, step: usize, v: f64) -> Vec<GlucosePoint> {
    (from..=to).step_by(step).map(|m| cgm(m, v)).collect()
}

fn concat(parts: &[Vec<GlucosePoint>]) -> Vec<GlucosePoint> {
    parts.concat()
}

/// (start, end) in minutes from `t(0)` for each episode.
fn spans(eps: &[Episode]) -> Vec<(i64, Option<i64>)> {
    eps.iter()
        .map(|e| {
            let m = |x: DateTime<Utc>| (x - t(0)).num_minutes();
            (m(e.start), e.end.map(m))
        })
        .collect()
}

const HYPO: Direction = Direction::Below(70.0);

// Each reading stands for its sampling interval (SPEC §3, iglu's episode calculation): the
// 15 minutes are readings × interval, the same at 1-, 5- and 15-minute sensors, to open an episode
// and to close it. `low` readings below 70 then readings back at 120 every `step` minutes.
#[rstest]
#[case::one_min_14_readings(1, 14, vec![])]
#[case::one_min_15_readings(1, 15, vec![(0, Some(15))])]
#[case::five_min_2_readings(5, 2, vec![])]
#[case::five_min_3_readings(5, 3, vec![(0, Some(15))])]
#[case::fifteen_min_1_reading(15, 1, vec![(0, Some(15))])]
#[case::fifteen_min_2_readings(15, 2, vec![(0, Some(30))])]
fn each_reading_stands_for_its_interval(
    #[case] step: i64,
    #[case] low: usize,
    #[case] expected: Vec<(i64, Option<i64>)>,
) {
    let step_u = usize::try_from(step).unwrap();
    let last_low = step * (low as i64 - 1);
    let points = concat(&[
        run(0, last_low, step_u, 60.0),
        run(last_low + step, last_low + step + 120, step_u, 120.0),
    ]);
    assert_eq!(spans(&episodes(&points, HYPO)), expected);
}

// The recovery counts the same way: back in range for `back` readings, then low again.
#[rstest]
#[case::one_min_14_back(1, 14, 1)]
#[case::one_min_15_back(1, 15, 2)]
#[case::five_min_2_back(5, 2, 1)]
#[case::five_min_3_back(5, 3, 2)]
#[case::fifteen_min_1_back(15, 1, 2)]
fn the_recovery_counts_readings_times_interval(
    #[case] step: i64,
    #[case] back: usize,
    #[case] episodes_expected: usize,
) {
    let step_u = usize::try_from(step).unwrap();
    let low_len = 15 / step; // readings for 15 minutes
    let mut t0 = 0;
    let mut parts = Vec::new();
    for (v, n) in [
        (60.0, low_len),
        (120.0, back as i64),
        (60.0, low_len),
        (120.0, 30 / step + 2),
    ] {
        parts.push(run(t0, t0 + step * (n - 1), step_u, v));
        t0 += step * n;
    }
    assert_eq!(episodes(&concat(&parts), HYPO).len(), episodes_expected);
}

#[rstest]
// The threshold is strict: exactly 70 is not below 70.
#[case::at_threshold(run(0, 30, 5, 70.0), vec![])]
#[case::just_below(run(0, 30, 5, 69.9), vec![(0, Some(35))])]
fn threshold_is_strict(#[case] low: Vec<GlucosePoint>, #[case] expected: Vec<(i64, Option<i64>)>) {
    let points = concat(&[low, run(35, 95, 5, 120.0)]);
    assert_eq!(spans(&episodes(&points, HYPO)), expected);
}

#[test]
fn recovery_shorter_than_15_minutes_keeps_the_episode_open() {
    let points = concat(&[
        run(0, 20, 5, 60.0),
        run(25, 30, 5, 90.0), // 2 readings: 10 minutes above
        run(35, 40, 5, 65.0),
        run(45, 100, 5, 90.0),
    ]);
    let eps = episodes(&points, HYPO);
    assert_eq!(spans(&eps), vec![(0, Some(45))]);
    // Only qualifying readings are behind the episode.
    assert_eq!(eps[0].readings, vec![0, 5, 10, 15, 20, 35, 40]);
    assert!(eps[0].cgm);
}

#[test]
fn recovery_of_exactly_15_minutes_closes_it() {
    // Above at 25, 30, 35: 3 readings of 5 minutes: closed at 25; the low from 40 is a new run.
    let points = concat(&[
        run(0, 20, 5, 60.0),
        run(25, 35, 5, 90.0),
        run(40, 55, 5, 60.0),
    ]);
    assert_eq!(
        spans(&episodes(&points, HYPO)),
        vec![(0, Some(25)), (40, None)]
    );
}

#[rstest]
#[case::still_below_at_last_reading(concat(&[run(0, 30, 5, 60.0)]))]
#[case::recovery_unfinished(concat(&[run(0, 30, 5, 60.0), run(35, 40, 5, 100.0)]))]
fn ongoing_episode_has_no_end(#[case] points: Vec<GlucosePoint>) {
    assert_eq!(spans(&episodes(&points, HYPO)), vec![(0, None)]);
}

/// An hour of 5-minute readings in range before minute 0, so the detected interval is 5 minutes.
fn before() -> Vec<GlucosePoint> {
    run(0, 55, 5, 110.0)
        .into_iter()
        .map(|mut p| {
            p.at -= TimeDelta::minutes(60);
            p.id += 50_000;
            p
        })
        .collect()
}

#[rstest]
// 0 and 30 below, 30 minutes apart: the gap is tolerated, the run lasts 30 + 5 minutes.
#[case::gap_30_tolerated(vec![cgm(0, 60.0), cgm(30, 60.0), cgm(35, 100.0)], vec![(0, None)])]
// 31 minutes apart: the run restarts at 31 and lasts 5 minutes.
#[case::gap_31_interrupts(vec![cgm(0, 60.0), cgm(31, 60.0), cgm(36, 100.0)], vec![])]
// 0, 5 then 50, 55: neither side lasts 15 minutes.
#[case::gap_splits_run(concat(&[run(0, 5, 5, 60.0), run(50, 55, 5, 60.0)]), vec![])]
// An open episode is closed at the last reading before the gap; a new one starts after it.
#[case::gap_closes_open(concat(&[run(0, 20, 5, 60.0), run(60, 80, 5, 60.0)]), vec![(0, Some(20)), (60, None)])]
// ... or at the first reading of an unfinished recovery.
#[case::gap_during_recovery(concat(&[run(0, 20, 5, 60.0), run(25, 30, 5, 90.0), run(90, 95, 5, 90.0)]), vec![(0, Some(25))])]
fn gaps(#[case] points: Vec<GlucosePoint>, #[case] expected: Vec<(i64, Option<i64>)>) {
    let points = concat(&[before(), points]);
    assert_eq!(spans(&episodes(&points, HYPO)), expected);
}

#[test]
fn nadir_and_peak_with_lo_and_hi() {
    let mut points = run(0, 30, 5, 60.0);
    points[2].level = Level::MgDl(48.0);
    points[4].level = Level::Lo;
    points[5].level = Level::Lo; // a later equal nadir does not move it
    let eps = episodes(&points, HYPO);
    assert_eq!(eps[0].extreme, Level::Lo);
    assert_eq!(eps[0].extreme_at, t(20));

    let mut points = run(0, 30, 5, 300.0);
    points[1].level = Level::MgDl(350.0);
    let eps = episodes(&points, Direction::Above(250.0));
    assert_eq!(spans(&eps), vec![(0, None)]);
    assert_eq!(
        (eps[0].extreme, eps[0].extreme_at),
        (Level::MgDl(350.0), t(5))
    );

    points[3].level = Level::Hi;
    let eps = episodes(&points, Direction::Above(250.0));
    assert_eq!((eps[0].extreme, eps[0].extreme_at), (Level::Hi, t(15)));
    // LO never qualifies as high, HI never as low.
    assert!(episodes(&[point(0, Level::Lo, false)], Direction::Above(250.0)).is_empty());
    assert!(episodes(&[point(0, Level::Hi, false)], HYPO).is_empty());
}

#[rstest]
// One low capillary reading opens an episode, the next in-range one closes it.
#[case::open_close(vec![cap(0, 65.0), cap(45, 110.0)], vec![(0, Some(45))], vec![100_000])]
#[case::closed_after_exactly_1h(vec![cap(0, 65.0), cap(60, 110.0)], vec![(0, Some(60))], vec![100_000])]
// No reading for more than an hour: closed at its last low reading.
#[case::gap_then_in_range(vec![cap(0, 65.0), cap(20, 66.0), cap(81, 110.0)], vec![(0, Some(20))], vec![100_000, 100_020])]
#[case::two_mornings_two_hypos(vec![cap(0, 65.0), cap(1440, 62.0)], vec![(0, Some(0)), (1440, None)], vec![100_000])]
#[case::two_lows_one_episode(vec![cap(0, 65.0), cap(15, 62.0), cap(30, 95.0)], vec![(0, Some(30))], vec![100_000, 100_015])]
#[case::still_open(vec![cap(0, 110.0), cap(60, 65.0)], vec![(60, None)], vec![100_060])]
#[case::two_episodes(vec![cap(0, 60.0), cap(15, 90.0), cap(300, 50.0), cap(320, 80.0)], vec![(0, Some(15)), (300, Some(320))], vec![100_000])]
#[case::exactly_70_closes(vec![cap(0, 60.0), cap(15, 70.0)], vec![(0, Some(15))], vec![100_000])]
fn capillary(
    #[case] points: Vec<GlucosePoint>,
    #[case] expected: Vec<(i64, Option<i64>)>,
    #[case] first_readings: Vec<EntryRef>,
) {
    let eps = episodes(&points, HYPO);
    assert_eq!(spans(&eps), expected);
    assert_eq!(eps[0].readings, first_readings);
    assert!(eps.iter().all(|e| !e.cgm));
}

#[test]
fn finger_prick_confirming_a_cgm_low_is_one_episode() {
    let mut points = concat(&[run(0, 30, 5, 62.0), run(35, 60, 5, 95.0)]);
    points.insert(3, cap(12, 58.0));
    points.push(cap(70, 100.0));
    let eps = episodes(&points, HYPO);
    // Overlapping episodes merge into their union: the capillary one ends at 70.
    assert_eq!(spans(&eps), vec![(0, Some(70))]);
    assert!(eps[0].cgm);
    assert_eq!(eps[0].readings, vec![0, 5, 10, 100_012, 15, 20, 25, 30]);
    assert_eq!(
        (eps[0].extreme, eps[0].extreme_at),
        (Level::MgDl(58.0), t(12))
    );
}

#[test]
fn open_capillary_episode_does_not_swallow_later_cgm_episodes() {
    let points = concat(&[
        vec![cap(0, 60.0)],
        run(5, 200, 5, 110.0),
        run(205, 235, 5, 60.0),
        run(240, 270, 5, 110.0),
    ]);
    let eps = episodes(&points, HYPO);
    assert_eq!(spans(&eps), vec![(0, None), (205, Some(240))]);
    assert_eq!((eps[0].cgm, eps[1].cgm), (false, true));
}

#[test]
fn open_capillary_episode_ends_with_the_cgm_episode_it_overlaps() {
    // CGM lags the finger prick: capillary low at 0 (never re-checked), CGM low from 10 to 40.
    let points = concat(&[
        vec![cap(0, 60.0)],
        run(10, 40, 5, 64.0),
        run(45, 80, 5, 100.0),
    ]);
    let eps = episodes(&points, HYPO);
    assert_eq!(spans(&eps), vec![(0, Some(45))]);
    assert!(eps[0].cgm);
}

#[test]
fn capillary_low_after_the_cgm_data_stops_continues_the_open_episode() {
    let points = concat(&[run(0, 30, 5, 60.0), vec![cap(40, 62.0)]]);
    let eps = episodes(&points, HYPO);
    assert_eq!(spans(&eps), vec![(0, None)]);
    assert_eq!(eps[0].readings.last(), Some(&100_040));
}

#[test]
fn empty_input_has_no_episode() {
    assert!(episodes(&[], HYPO).is_empty());
}

#[test]
fn unsorted_input_is_read_in_time_order() {
    let mut points = concat(&[run(0, 30, 5, 60.0), run(35, 60, 5, 100.0)]);
    let sorted = episodes(&points, HYPO);
    assert_eq!(spans(&sorted), vec![(0, Some(35))]);
    points.reverse();
    assert_eq!(episodes(&points, HYPO), sorted);
}
