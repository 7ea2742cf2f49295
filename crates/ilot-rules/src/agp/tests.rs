use chrono::{TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use ilot_domain::MealContext;
use proptest::prelude::*;
use rstest::rstest;

use super::*;

fn mg(v: f64) -> Level {
    Level::MgDl(v)
}

fn pct(levels: &[Level]) -> [Level; 5] {
    let mut v: Vec<f64> = levels.iter().map(|&l| rank(l)).collect();
    let p = percentiles(&mut v).unwrap();
    [p.p5, p.p25, p.p50, p.p75, p.p95]
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn point(at: DateTime<Utc>, level: Level) -> GlucosePoint {
    GlucosePoint {
        id: u64::try_from(at.timestamp()).unwrap(),
        at,
        level,
        cgm: true,
        scan: false,
        context: MealContext::Other,
    }
}

fn close(a: Level, b: f64) -> bool {
    matches!(a, Level::MgDl(x) if (x - b).abs() < 1e-9)
}

/// Hand-computed type-7 values: h = (n − 1) p, P = x[⌊h⌋] + frac × (x[⌊h⌋+1] − x[⌊h⌋]).
#[rstest]
// n = 10, 1..=10: h = 0.45, 2.25, 4.5, 6.75, 8.55.
#[case::one_to_ten(vec![7.0, 3.0, 10.0, 1.0, 5.0, 2.0, 9.0, 4.0, 8.0, 6.0], [1.45, 3.25, 5.5, 7.75, 9.55])]
// n = 5: h = 0.2, 1, 2, 3, 3.8.
#[case::five(vec![50.0, 10.0, 40.0, 30.0, 20.0], [12.0, 20.0, 30.0, 40.0, 48.0])]
#[case::single(vec![123.0], [123.0; 5])]
// n = 2: h = 0.05, 0.25, 0.5, 0.75, 0.95 between 100 and 200.
#[case::two(vec![200.0, 100.0], [105.0, 125.0, 150.0, 175.0, 195.0])]
// n = 21: h = 1, 5, 10, 15, 19 exactly, ties included.
#[case::twenty_one((0..21).map(|i| f64::from(i / 2 * 10)).collect(), [0.0, 20.0, 50.0, 70.0, 90.0])]
fn type_7_percentiles(#[case] values: Vec<f64>, #[case] expected: [f64; 5]) {
    let levels: Vec<_> = values.into_iter().map(mg).collect();
    let got = pct(&levels);
    for (g, e) in got.iter().zip(expected) {
        assert!(close(*g, e), "{got:?} vs {expected:?}");
    }
}

#[test]
fn lo_and_hi_are_never_turned_into_numbers() {
    // n = 5: p5 interpolates LO→60: LO; p95 interpolates 80→HI: HI.
    let got = pct(&[Level::Hi, mg(70.0), Level::Lo, mg(80.0), mg(60.0)]);
    assert_eq!(got, [Level::Lo, mg(60.0), mg(70.0), mg(80.0), Level::Hi]);
    // n = 3, sorted LO LO 60: h = 0.1, 0.5, 1 (exactly LO), 1.5 and 1.9 (between LO and 60).
    assert_eq!(pct(&[Level::Lo, mg(60.0), Level::Lo]), [Level::Lo; 5]);
    // n = 21 with a HI at the top: p95 is exactly rank 19, a number, not HI.
    let mut levels: Vec<_> = (0..20).map(|i| mg(f64::from(100 + i))).collect();
    levels.push(Level::Hi);
    assert_eq!(pct(&levels)[4], mg(119.0));
}

#[test]
fn empty_bins_have_no_percentiles() {
    let mut v: Vec<f64> = vec![];
    assert_eq!(percentiles(&mut v), None);
    let w = Window::new(utc("2025-01-01T00:00:00Z"), utc("2025-01-02T00:00:00Z"));
    let a = agp(&[], w, Tz::Europe__Paris, 15);
    assert_eq!(a.bins.len(), 96);
    assert!(a.bins.iter().all(|b| b.n == 0 && b.percentiles.is_none()));
    assert_eq!(a.bins[95].start_minute, 1425);
}

#[test]
fn bins_follow_local_clock_time_across_dst() {
    // 08:10 in Paris is 07:10 UTC in winter and 06:10 UTC in summer: both in the 08:00 bin.
    let pts = [
        point(utc("2025-03-29T07:10:00Z"), mg(100.0)),
        point(utc("2025-03-31T06:10:00Z"), mg(200.0)),
        point(utc("2025-03-31T07:10:00Z"), mg(300.0)), // 09:10 local
    ];
    let w = Window::new(utc("2025-03-29T00:00:00Z"), utc("2025-04-01T00:00:00Z"));
    let a = agp(&pts, w, Tz::Europe__Paris, 15);
    let bin8 = &a.bins[32];
    assert_eq!((bin8.start_minute, bin8.n), (480, 2));
    assert!(close(bin8.percentiles.unwrap().p50, 150.0));
    assert_eq!(a.bins[36].n, 1);
    // In UTC, they would be three different bins.
    let a = agp(&pts, w, Tz::UTC, 60);
    assert_eq!([a.bins[6].n, a.bins[7].n], [1, 2]);
}

/// The offset cache must give each reading the bin that a direct conversion gives.
#[rstest]
#[case::paris_spring(Tz::Europe__Paris, "2025-03-29T00:00:00Z")]
#[case::paris_autumn(Tz::Europe__Paris, "2025-10-25T00:00:00Z")]
#[case::lord_howe_half_hour(Tz::Australia__Lord_Howe, "2025-04-04T00:00:00Z")]
#[case::kolkata(Tz::Asia__Kolkata, "2025-01-01T00:00:00Z")]
#[case::reunion(Tz::Indian__Reunion, "2025-01-01T00:00:00Z")]
fn bins_match_a_direct_conversion(#[case] tz: Tz, #[case] from: &str) {
    let from = utc(from);
    let pts: Vec<_> = (0..3 * 1440)
        .map(|m| point(from + TimeDelta::minutes(m), mg((m % 97) as f64 + 60.0)))
        .collect();
    let w = Window::new(from, from + TimeDelta::days(3));
    let a = agp(&pts, w, tz, 10);
    let mut want = vec![0usize; 144];
    for p in &pts {
        let local = p.at.with_timezone(&tz);
        want[(local.hour() * 6 + local.minute() / 10) as usize] += 1;
    }
    let got: Vec<_> = a.bins.iter().map(|b| b.n).collect();
    assert_eq!(got, want);
}

#[test]
fn only_the_window_counts() {
    let pts = [
        point(utc("2025-01-01T10:00:00Z"), mg(50.0)),
        point(utc("2025-01-02T10:00:00Z"), mg(100.0)),
        point(utc("2025-01-03T10:00:00Z"), mg(400.0)),
    ];
    let w = Window::new(utc("2025-01-02T00:00:00Z"), utc("2025-01-03T10:00:00Z"));
    let a = agp(&pts, w, Tz::UTC, 60);
    assert_eq!(a.bins[10].n, 1);
    assert_eq!(a.bins[10].percentiles.unwrap().p95, mg(100.0));
}

#[test]
#[should_panic(expected = "must divide 1440")]
fn bin_minutes_must_divide_a_day() {
    let w = Window::new(utc("2025-01-01T00:00:00Z"), utc("2025-01-02T00:00:00Z"));
    let _ = agp(&[], w, Tz::UTC, 7);
}

#[test]
fn daily_profiles_group_by_local_date() {
    let pts = [
        point(utc("2025-01-01T22:30:00Z"), mg(100.0)), // 23:30 Jan 1 in Paris
        point(utc("2025-01-01T23:30:00Z"), mg(110.0)), // 00:30 Jan 2
        point(utc("2025-01-02T12:00:00Z"), Level::Hi),
    ];
    let w = Window::new(utc("2025-01-01T00:00:00Z"), utc("2025-01-03T00:00:00Z"));
    let days = daily_profiles(&pts, w, Tz::Europe__Paris);
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].date, NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
    assert_eq!(
        days[0].readings[0].time,
        NaiveTime::from_hms_opt(23, 30, 0).unwrap()
    );
    assert_eq!(days[1].readings.len(), 2);
    assert_eq!(days[1].readings[1].level, Level::Hi);
}

fn arb_level() -> impl Strategy<Value = Level> {
    prop_oneof![
        1 => Just(Level::Lo),
        1 => Just(Level::Hi),
        // Whole numbers make ties frequent, as real meter values do.
        10 => (10u16..600).prop_map(|v| Level::MgDl(f64::from(v))),
        10 => (10.0..600.0f64).prop_map(Level::MgDl),
    ]
}

/// Type 7 on a fully sorted copy, written the textbook way.
fn sorted_reference(levels: &[Level]) -> [Level; 5] {
    let mut x: Vec<f64> = levels.iter().map(|&l| rank(l)).collect();
    x.sort_by(f64::total_cmp);
    [5, 25, 50, 75, 95].map(|q| {
        let h = (x.len() - 1) * q;
        let (lo, frac) = (h / 100, (h % 100) as f64 / 100.0);
        if frac == 0.0 || x[lo].is_infinite() || x[lo + 1].is_infinite() {
            let side = if frac == 0.0 || x[lo] == f64::NEG_INFINITY {
                x[lo]
            } else {
                x[lo + 1]
            };
            unrank(side)
        } else {
            Level::MgDl(x[lo] + frac * (x[lo + 1] - x[lo]))
        }
    })
}

proptest! {
    #[test]
    fn percentiles_are_monotone(levels in prop::collection::vec(arb_level(), 1..300)) {
        let p = pct(&levels);
        for w in p.windows(2) {
            prop_assert!(rank(w[0]) <= rank(w[1]), "{:?}", p);
        }
    }

    #[test]
    fn selection_agrees_with_a_full_sort(levels in prop::collection::vec(arb_level(), 1..300)) {
        let got = pct(&levels);
        let want = sorted_reference(&levels);
        for (g, w) in got.iter().zip(&want) {
            match (g, w) {
                (Level::MgDl(a), Level::MgDl(b)) => prop_assert!((a - b).abs() < 1e-9),
                _ => prop_assert_eq!(g, w),
            }
        }
    }
}

#[test]
fn unsorted_input_gives_the_same_agp() {
    let from = utc("2025-01-01T00:00:00Z");
    let mut pts: Vec<_> = (0..2 * 288)
        .map(|i| {
            point(
                from + TimeDelta::minutes(5 * i),
                mg(60.0 + (i * 41 % 250) as f64),
            )
        })
        .collect();
    let w = Window::new(from + TimeDelta::hours(3), from + TimeDelta::hours(40));
    let sorted = agp(&pts, w, Tz::Europe__Paris, 30);
    pts.swap(100, 101);
    assert_eq!(agp(&pts, w, Tz::Europe__Paris, 30), sorted);
    pts.reverse();
    assert_eq!(agp(&pts, w, Tz::Europe__Paris, 30), sorted);
    assert_eq!(daily_profiles(&pts, w, Tz::UTC).len(), 2);
}
