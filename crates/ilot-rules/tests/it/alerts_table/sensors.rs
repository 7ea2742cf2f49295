//! The 15-minute CGM rule at 1-, 5- and 15-minute sensors (SPEC §3: each reading stands for its
//! sampling interval), and the level of an episode: level 2 (and the physician's severe level)
//! needs its own 15 minutes below its threshold, so one reading does not make the level when the
//! sensor's next readings disagree.

use chrono::TimeDelta;
use ilot_rules::alerts::AlertKind;
use rstest::rstest;

use super::{Diary, kinds, paris, t1_cgm};

/// A CGM at `every` minutes: an hour at 120, `around` readings at 62, `deep` at 50, `around` at 62,
/// then an hour at 120.
fn low(every: i64, around: usize, deep: usize) -> Diary {
    let n = |minutes: i64| usize::try_from(minutes / every).unwrap();
    let values = [
        vec![120.0; n(60)],
        vec![62.0; around],
        vec![50.0; deep],
        vec![62.0; around],
        vec![120.0; n(60)],
    ]
    .concat();
    let mut diary = Diary::default();
    diary.cgm("2026-03-10 02:00", every, &values);
    diary
}

#[rstest]
// 1-minute sensor: 14 minutes below 54 is level 1; 15 is level 2 (severe by default: severe = 54).
#[case::one_min_14_deep(1, 10, 14, 54.0, AlertKind::HypoL1)]
#[case::one_min_15_deep(1, 10, 15, 54.0, AlertKind::SevereHypo)]
#[case::one_min_15_deep_severe_40(1, 10, 15, 40.0, AlertKind::HypoL2)]
// 5-minute sensor: 2 readings (10 minutes) below 54 is level 1; 3 (15 minutes) level 2.
#[case::five_min_1_deep(5, 3, 1, 54.0, AlertKind::HypoL1)]
#[case::five_min_2_deep(5, 3, 2, 54.0, AlertKind::HypoL1)]
#[case::five_min_3_deep(5, 3, 3, 54.0, AlertKind::SevereHypo)]
#[case::five_min_3_deep_severe_40(5, 3, 3, 40.0, AlertKind::HypoL2)]
// 15-minute sensor: one reading is 15 minutes.
#[case::fifteen_min_1_deep(15, 1, 1, 54.0, AlertKind::SevereHypo)]
#[case::fifteen_min_0_deep(15, 1, 0, 54.0, AlertKind::HypoL1)]
fn the_level_needs_its_own_15_minutes(
    #[case] every: i64,
    #[case] around: usize,
    #[case] deep: usize,
    #[case] severe: f64,
    #[case] expected: AlertKind,
) {
    let mut p = t1_cgm();
    p.policy.severe_mg_dl = severe;
    let mut diary = low(every, around, deep);
    let alerts = diary.eval(&p, "2026-03-10 12:00");
    assert_eq!(kinds(&alerts), [expected], "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.started_at, paris("2026-03-10 03:00"));
    assert_eq!(a.readings.len(), 2 * around + deep);
    // The episode ends at the first reading back at 120.
    let end = paris("2026-03-10 03:00") + TimeDelta::minutes(every * (2 * around + deep) as i64);
    assert_eq!(a.ended_at, Some(end));
}
