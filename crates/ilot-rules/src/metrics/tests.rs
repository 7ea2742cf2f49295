use chrono::{DateTime, TimeZone, Utc};
use ilot_domain::MealContext;
use proptest::prelude::*;
use rstest::rstest;

use super::*;
use crate::input::Level;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap()
}

fn at_min(min: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(min)
}

fn p(min: i64, level: Level, cgm: bool) -> GlucosePoint {
    GlucosePoint {
        id: u64::try_from(min).unwrap_or(0),
        at: at_min(min),
        level,
        cgm,
        scan: false,
        context: MealContext::Other,
    }
}

fn mg(v: f64) -> Level {
    Level::MgDl(v)
}

fn day_window(days: i64) -> Window {
    Window::new(t0(), t0() + TimeDelta::days(days))
}

/// CGM readings every 5 minutes at `v`, from minute `from` (inclusive) to `to` (exclusive).
fn cgm5(from: i64, to: i64, v: f64) -> Vec<GlucosePoint> {
    (from..to).step_by(5).map(|m| p(m, mg(v), true)).collect()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// Where each single reading falls: (<54, 54–69, 70–180, 181–250, >250).
#[rstest]
#[case::v53_9(mg(53.9), [1, 0, 0, 0, 0])]
#[case::v54(mg(54.0), [0, 1, 0, 0, 0])]
#[case::v69(mg(69.0), [0, 1, 0, 0, 0])]
#[case::v69_9(mg(69.9), [0, 1, 0, 0, 0])]
#[case::v70(mg(70.0), [0, 0, 1, 0, 0])]
#[case::v180(mg(180.0), [0, 0, 1, 0, 0])]
#[case::v180_5(mg(180.5), [0, 0, 0, 1, 0])]
#[case::v181(mg(181.0), [0, 0, 0, 1, 0])]
#[case::v250(mg(250.0), [0, 0, 0, 1, 0])]
#[case::v251(mg(251.0), [0, 0, 0, 0, 1])]
#[case::lo(Level::Lo, [1, 0, 0, 0, 0])]
#[case::hi(Level::Hi, [0, 0, 0, 0, 1])]
fn range_bounds(#[case] level: Level, #[case] expected: [u8; 5]) {
    let m = metrics(&[p(0, level, true)], day_window(1), &Ranges::consensus());
    let got = [
        m.below_54_percent,
        m.between_54_69_percent,
        m.tir_percent,
        m.between_181_250_percent,
        m.above_250_percent,
    ];
    let want = expected.map(|e| Some(f64::from(e) * 100.0));
    assert_eq!(got, want);
    assert_eq!(
        m.below_70_percent,
        Some(f64::from(expected[0] + expected[1]) * 100.0)
    );
    assert_eq!(
        m.above_180_percent,
        Some(f64::from(expected[3] + expected[4]) * 100.0)
    );
}

#[test]
fn hand_computed_mixed_window() {
    // Numeric: 50 60 70 100 180 200 260 120 -> sum 1040, mean 130; squared deviations
    // 6400 4900 3600 900 2500 4900 16900 100 -> 40200; SD = sqrt(40200 / 7).
    let levels = [
        mg(50.0),
        mg(60.0),
        mg(70.0),
        mg(100.0),
        mg(180.0),
        mg(200.0),
        mg(260.0),
        Level::Lo,
        Level::Hi,
        mg(120.0),
    ];
    let pts: Vec<_> = levels
        .iter()
        .enumerate()
        .map(|(i, &l)| p(i as i64 * 5, l, true))
        .collect();
    let m = metrics(&pts, day_window(1), &Ranges::consensus());
    assert_eq!((m.n_readings, m.n_lo, m.n_hi), (10, 1, 1));
    assert_eq!(m.mean_mg_dl, Some(130.0));
    let sd = (40200.0_f64 / 7.0).sqrt();
    assert!(close(m.sd_mg_dl, sd), "{:?}", m.sd_mg_dl);
    assert!(close(m.cv_percent, sd / 130.0 * 100.0));
    assert!(close(m.gmi_percent, 6.4196), "{:?}", m.gmi_percent);
    assert!(close(m.below_54_percent, 20.0)); // 50, LO
    assert!(close(m.between_54_69_percent, 10.0)); // 60
    assert!(close(m.below_70_percent, 30.0));
    assert!(close(m.tir_percent, 40.0)); // 70 100 180 120
    assert!(close(m.between_181_250_percent, 10.0)); // 200
    assert!(close(m.above_250_percent, 20.0)); // 260, HI
    assert!(close(m.above_180_percent, 30.0));
    assert_eq!(m.pregnancy, None);
}

#[test]
fn empty_window_has_no_numbers_and_no_nan() {
    let m = metrics(&[], day_window(14), &Ranges::pregnancy());
    assert_eq!(m.n_readings, 0);
    assert_eq!(m.mean_mg_dl, None);
    assert_eq!(m.sd_mg_dl, None);
    assert_eq!(m.gmi_percent, None);
    assert_eq!(m.tir_percent, None);
    assert_eq!(m.active_percent, Some(0.0));
    assert_eq!(m.days_covered, 0);
    assert!(!m.sufficient);
    assert_eq!(m.insufficient_reasons.len(), 1);
    assert!(m.insufficient_reasons[0].contains("no cgm readings"));
    let pregnancy = m.pregnancy.as_ref().unwrap();
    assert_eq!(pregnancy.tir_63_140_percent, None);
    let json = serde_json::to_string(&m).unwrap();
    assert!(
        !json.contains("NaN") && json.contains("\"mean_mg_dl\":null"),
        "{json}"
    );
}

#[test]
fn single_reading_has_a_mean_but_no_sd() {
    let m = metrics(
        &[p(0, mg(99.0), false)],
        day_window(1),
        &Ranges::consensus(),
    );
    assert_eq!(m.mean_mg_dl, Some(99.0));
    assert_eq!(m.sd_mg_dl, None);
    assert_eq!(m.cv_percent, None);
    assert!(close(m.gmi_percent, 3.31 + 0.02392 * 99.0));
}

#[test]
fn only_lo_and_hi_give_percentages_but_no_mean() {
    let pts = [p(0, Level::Lo, true), p(5, Level::Hi, true)];
    let m = metrics(&pts, day_window(1), &Ranges::consensus());
    assert_eq!(m.mean_mg_dl, None);
    assert_eq!(m.gmi_percent, None);
    assert_eq!(
        (m.below_54_percent, m.above_250_percent),
        (Some(50.0), Some(50.0))
    );
}

#[test]
fn window_is_half_open() {
    let w = Window::new(at_min(10), at_min(20));
    let pts = [
        p(5, mg(300.0), true),
        p(10, mg(100.0), true),
        p(15, mg(110.0), true),
        p(20, mg(40.0), true),
    ];
    let m = metrics(&pts, w, &Ranges::consensus());
    assert_eq!(m.n_readings, 2);
    assert_eq!(m.mean_mg_dl, Some(105.0));
    assert_eq!(m.tir_percent, Some(100.0));
}

#[test]
fn unsorted_input_gives_the_same_metrics() {
    let mut pts = cgm5(0, 600, 100.0);
    for (i, x) in pts.iter_mut().enumerate() {
        x.level = mg(60.0 + (i * 37 % 200) as f64);
    }
    let sorted = metrics(&pts, day_window(1), &Ranges::consensus());
    pts.reverse();
    pts.swap(3, 70);
    assert_eq!(metrics(&pts, day_window(1), &Ranges::consensus()), sorted);
}

#[rstest]
// 14-day window, 5-minute CGM for 10 days: 2880 readings x 5 min = 10 days -> 71.43 %.
#[case::ten_of_14_days(14, 10, 10.0 / 14.0 * 100.0, true)]
// 9 days of 14 -> 64.29 %: not enough.
#[case::nine_of_14_days(14, 9, 9.0 / 14.0 * 100.0, false)]
// Complete but only 13 days long.
#[case::thirteen_day_window(13, 13, 100.0, false)]
#[case::full(14, 14, 100.0, true)]
fn active_time_and_sufficiency(
    #[case] window_days: i64,
    #[case] worn_days: i64,
    #[case] active: f64,
    #[case] sufficient: bool,
) {
    let pts = cgm5(0, worn_days * 1440, 120.0);
    let m = metrics(&pts, day_window(window_days), &Ranges::consensus());
    assert!(close(m.active_percent, active), "{:?}", m.active_percent);
    assert_eq!(m.cgm_interval_minutes, Some(5.0));
    assert_eq!(m.window_days, window_days as f64);
    assert_eq!(m.days_covered, u32::try_from(worn_days).unwrap());
    assert_eq!(m.sufficient, sufficient, "{:?}", m.insufficient_reasons);
    assert_eq!(m.insufficient_reasons.is_empty(), sufficient);
    assert!(m.gmi_percent.is_some());
}

#[test]
fn insufficient_reasons_are_truncated_not_rounded_up() {
    // 14-day window worn 9.8 days: 69.99 %… must not read as 70.0 %.
    let worn_min = 14 * 1440 * 6999 / 10000 / 5 * 5;
    let m = metrics(
        &cgm5(0, worn_min, 120.0),
        day_window(14),
        &Ranges::consensus(),
    );
    assert!(m.active_percent.unwrap() < 70.0);
    assert_eq!(
        m.insufficient_reasons,
        vec!["cgm was active 69.9 % of the window; a report needs at least 70 %".to_owned()]
    );
    let m = metrics(
        &cgm5(0, 1440, 120.0),
        Window::new(t0(), at_min(1439)),
        &Ranges::consensus(),
    );
    assert!(m.insufficient_reasons[0].starts_with("the window covers 0.9 days"));
}

#[test]
fn interval_is_the_median_spacing_and_duplicates_count_once() {
    // Spacings 5, 5, 15, 15 -> median 10 min; 5 distinct readings x 10 min over 100 min = 50 %.
    let mut pts: Vec<_> = [0, 5, 10, 25, 40].map(|m| p(m, mg(100.0), true)).to_vec();
    pts.insert(2, p(5, mg(101.0), true)); // re-synced duplicate
    pts.push(p(50, mg(100.0), false)); // capillary: no sensor wear
    let m = metrics(&pts, Window::new(t0(), at_min(100)), &Ranges::consensus());
    assert_eq!(m.cgm_interval_minutes, Some(10.0));
    assert_eq!(m.active_percent, Some(50.0));
    assert_eq!(m.n_readings, 7);

    let one = metrics(
        &pts[..1],
        Window::new(t0(), at_min(100)),
        &Ranges::consensus(),
    );
    assert_eq!(one.active_percent, None);
    assert!(one.insufficient_reasons[1].contains("too few cgm readings"));
}

#[test]
fn pregnancy_ranges() {
    let levels = [
        mg(60.0),
        mg(63.0),
        mg(140.0),
        mg(140.5),
        Level::Lo,
        Level::Hi,
    ];
    let pts: Vec<_> = levels
        .iter()
        .enumerate()
        .map(|(i, &l)| p(i as i64, l, false))
        .collect();
    let m = metrics(&pts, day_window(1), &Ranges::pregnancy());
    let third = 100.0 / 3.0;
    let pr = m.pregnancy.unwrap();
    assert!(close(pr.below_63_percent, third)); // 60, LO
    assert!(close(pr.tir_63_140_percent, third)); // 63, 140
    assert!(close(pr.above_140_percent, third)); // 140.5, HI
}

#[test]
fn hypo_episodes_are_counted_per_level() {
    let pts = [
        cgm5(0, 60, 120.0),
        cgm5(60, 85, 62.0), // 20 min below 70
        cgm5(85, 200, 120.0),
        cgm5(200, 225, 50.0), // 20 min below 54 (and 70)
        cgm5(225, 300, 120.0),
        cgm5(300, 310, 50.0), // 5 min only
        cgm5(310, 400, 120.0),
    ]
    .concat();
    let m = metrics(&pts, day_window(1), &Ranges::consensus());
    assert_eq!((m.hypo_level1_episodes, m.hypo_level2_episodes), (2, 1));
}

#[test]
fn days_covered_counts_24_hour_days_from_the_window_start() {
    let pts = [
        p(10, mg(100.0), false),
        p(600, mg(100.0), false),
        p(2 * 1440 + 1, mg(100.0), false),
        p(13 * 1440 + 1439, mg(100.0), false),
    ];
    assert_eq!(
        metrics(&pts, day_window(14), &Ranges::consensus()).days_covered,
        3
    );
}

#[test]
fn json_field_names_are_the_report_contract() {
    let m = metrics(&cgm5(0, 60, 100.0), day_window(1), &Ranges::consensus());
    let v = serde_json::to_value(&m).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let mut want = vec![
        "n_readings",
        "n_lo",
        "n_hi",
        "mean_mg_dl",
        "sd_mg_dl",
        "cv_percent",
        "gmi_percent",
        "tir_percent",
        "below_54_percent",
        "below_70_percent",
        "between_54_69_percent",
        "above_180_percent",
        "between_181_250_percent",
        "above_250_percent",
        "active_percent",
        "cgm_interval_minutes",
        "window_days",
        "days_covered",
        "sufficient",
        "insufficient_reasons",
        "hypo_level1_episodes",
        "hypo_level2_episodes",
        "pregnancy",
    ];
    want.sort_unstable();
    assert_eq!(keys, want);
}

fn arb_level() -> impl Strategy<Value = Level> {
    prop_oneof![
        1 => Just(Level::Lo),
        1 => Just(Level::Hi),
        20 => (10.0..600.0f64).prop_map(Level::MgDl),
    ]
}

proptest! {
    #[test]
    fn ranges_partition_every_reading(levels in prop::collection::vec(arb_level(), 1..200)) {
        let pts: Vec<_> = levels.iter().enumerate().map(|(i, &l)| p(i as i64, l, true)).collect();
        let m = metrics(&pts, day_window(1), &Ranges::pregnancy());
        let parts = [m.below_54_percent, m.between_54_69_percent, m.tir_percent,
            m.between_181_250_percent, m.above_250_percent];
        let total: f64 = parts.iter().map(|x| x.unwrap()).sum();
        prop_assert!((total - 100.0).abs() < 1e-9);
        let pr = m.pregnancy.unwrap();
        let total: f64 = [pr.below_63_percent, pr.tir_63_140_percent, pr.above_140_percent]
            .iter().map(|x| x.unwrap()).sum();
        prop_assert!((total - 100.0).abs() < 1e-9);
        if let (Some(mean), Some(sd)) = (m.mean_mg_dl, m.sd_mg_dl) {
            prop_assert!((10.0..600.0).contains(&mean) && sd >= 0.0);
        }
    }
}

#[rstest]
// An in-window reading stored after out-of-window ones.
#[case::moved_to_the_end(|v: &mut Vec<GlucosePoint>| { let p = v.remove(20); v.push(p); })]
// Two neighbours swapped inside the window.
#[case::swapped_inside(|v: &mut Vec<GlucosePoint>| v.swap(40, 41))]
// An out-of-window reading stored inside the window's part.
#[case::outsider_inside(|v: &mut Vec<GlucosePoint>| { let p = v.remove(2); v.insert(50, p); })]
fn order_faults_anywhere_are_caught(#[case] shuffle: fn(&mut Vec<GlucosePoint>)) {
    let mut pts = cgm5(0, 1440, 100.0);
    for (i, x) in pts.iter_mut().enumerate() {
        x.level = mg(40.0 + (i * 53 % 300) as f64);
    }
    let w = Window::new(at_min(60), at_min(1200));
    let sorted = metrics(&pts, w, &Ranges::consensus());
    shuffle(&mut pts);
    assert_eq!(metrics(&pts, w, &Ranges::consensus()), sorted);
}
