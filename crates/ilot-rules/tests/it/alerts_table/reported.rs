//! Hypos the patient reports (SPEC §3): with a glucose value the report counts like a capillary
//! reading at that time (level 1, 2 or severe by threshold, with the advice), it counts towards
//! "repeated hypos" with or without a value, and "needed help" makes it level 3.

use ilot_domain::Monitoring;
use ilot_rules::Level;
use ilot_rules::alerts::{AlertKind, Severity, advice};
use rstest::rstest;

use super::{Diary, gestational, kinds, paris, t1_capillary, t1_cgm};

// A report at 08:00, a finger prick back in range at 08:20.
#[rstest]
#[case::at_40(Some(40.0), false, 54.0, vec![AlertKind::SevereHypo], advice::HYPO_SEVERE)]
#[case::at_50_severe_40(Some(50.0), false, 40.0, vec![AlertKind::HypoL2], advice::HYPO_RESUGAR)]
#[case::at_65(Some(65.0), false, 54.0, vec![AlertKind::HypoL1], advice::HYPO_RESUGAR)]
#[case::at_75(Some(75.0), false, 54.0, vec![], "")]
#[case::no_value(None, false, 54.0, vec![], "")]
#[case::no_value_helped(None, true, 54.0, vec![AlertKind::SevereHypo], advice::HYPO_SEVERE)]
// Level 3 makes the episode of its own value severe: one alert, not two.
#[case::at_65_helped(Some(65.0), true, 54.0, vec![AlertKind::SevereHypo], advice::HYPO_SEVERE)]
fn a_reported_value_counts_like_a_capillary_reading(
    #[case] mg: Option<f64>,
    #[case] needed_help: bool,
    #[case] severe: f64,
    #[case] expected: Vec<AlertKind>,
    #[case] advice: &str,
) {
    let mut p = t1_capillary();
    p.policy.severe_mg_dl = severe;
    let mut diary = Diary::default();
    diary.report_with("2026-03-10 08:00", needed_help, mg.map(Level::MgDl));
    diary.cap("2026-03-10 08:20", 110.0);
    let alerts = diary.eval(&p, "2026-03-10 12:00");
    assert_eq!(kinds(&alerts), expected, "{alerts:#?}");
    if let Some(a) = alerts.first() {
        assert_eq!(a.advice, advice);
        assert_eq!(a.started_at, paris("2026-03-10 08:00"));
        assert_eq!(
            a.readings,
            [1],
            "the report is the reading behind the alert"
        );
        if let Some(v) = mg {
            assert_eq!(a.extreme, Some(Level::MgDl(v)));
            assert_eq!(a.ended_at, Some(paris("2026-03-10 08:20")));
        }
        let severity = if a.kind == AlertKind::HypoL1 {
            Severity::Warning
        } else {
            Severity::Urgent
        };
        assert_eq!(a.severity, severity);
    }
}

// Reports count towards repeated hypos, with or without a value, even above the threshold (the
// patient felt a hypo); type 1 needs 3 in 7 days, gestational 2.
#[rstest]
#[case::three_reports_no_value(vec![None, None, None], 1)]
#[case::three_reports_one_in_range(vec![Some(75.0), None, Some(60.0)], 1)]
#[case::two_reports(vec![None, Some(60.0)], 0)]
fn reports_count_towards_repeated_hypos(#[case] values: Vec<Option<f64>>, #[case] expected: usize) {
    let mut diary = Diary::default();
    for (k, v) in values.iter().enumerate() {
        diary.report_with(&format!("2026-03-1{k} 08:00"), false, v.map(Level::MgDl));
        diary.cap(&format!("2026-03-1{k} 08:20"), 110.0);
    }
    let alerts = diary.eval(&t1_capillary(), "2026-03-20 12:00");
    let repeated = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::RepeatedHypos)
        .count();
    assert_eq!(repeated, expected, "{alerts:#?}");
}

// A report made during a CGM episode is that episode, not a second event: two CGM episodes with
// a report in one of them are 2 events (gestational needs 2, type 1 needs 3).
#[test]
fn a_report_during_an_episode_is_the_same_event() {
    let lows = [vec![60.0; 6], vec![110.0; 6]].concat();
    let mut diary = Diary::default();
    diary.cgm("2026-03-10 03:00", 5, &lows);
    diary.cgm("2026-03-12 03:00", 5, &lows);
    diary.report("2026-03-12 03:20", false);
    let t1 = diary.eval(&t1_cgm(), "2026-03-20 12:00");
    assert_eq!(kinds(&t1), [AlertKind::HypoL1, AlertKind::HypoL1]);
    // The same data with gestational targets: below 63 (CGM), 2 events make a cluster.
    let gdm = diary.eval(&gestational(Monitoring::Cgm), "2026-03-20 12:00");
    let repeated = gdm.iter().filter(|a| a.kind == AlertKind::RepeatedHypos);
    assert_eq!(repeated.count(), 1, "{gdm:#?}");
    assert_eq!(
        gdm.iter()
            .find(|a| a.kind == AlertKind::RepeatedHypos)
            .map(|a| a.count),
        Some(Some(2))
    );
}
