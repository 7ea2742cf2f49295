use super::*;
use rstest::rstest;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[rstest]
#[case(DiabetesType::Type1, Monitoring::Cgm, 4, 201.6, 70.0, 250.0, 48)]
#[case(
    DiabetesType::Type2Insulin,
    Monitoring::Capillary,
    1,
    2.0,
    70.0,
    250.0,
    72
)]
#[case(
    DiabetesType::Type2Insulin,
    Monitoring::Capillary,
    3,
    4.0,
    70.0,
    250.0,
    72
)]
#[case(
    DiabetesType::GestationalInsulin,
    Monitoring::Capillary,
    1,
    4.0,
    60.0,
    200.0,
    48
)]
fn defaults_by_type(
    #[case] t: DiabetesType,
    #[case] m: Monitoring,
    #[case] inj: u8,
    #[case] per_day: f64,
    #[case] hypo1: f64,
    #[case] hyper: f64,
    #[case] no_data: u32,
) {
    let p = Prescription::new(t, m, inj, d("2026-01-10"));
    p.validate().unwrap();
    assert!((p.expected_readings_per_day - per_day).abs() < 1e-9);
    assert_eq!(
        (
            p.policy.hypo_l1_mg_dl,
            p.policy.hyper_mg_dl,
            p.policy.no_data_hours
        ),
        (hypo1, hyper, no_data)
    );
    assert_eq!(p.end, d("2027-01-09"));
    assert_eq!(p.trial_end, Some(d("2026-02-10")));
}

#[test]
fn gestational_targets_are_french() {
    let p = Prescription::new(
        DiabetesType::GestationalInsulin,
        Monitoring::Capillary,
        1,
        d("2026-01-10"),
    );
    assert_eq!(p.policy.gestational, Some(GestationalTargets::default()));
    assert_eq!(p.policy.repeated_hypos_count, 2);
}

#[test]
fn a_prescription_lasts_at_most_a_year() {
    let mut p = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, d("2026-01-10"));
    p.end = d("2027-01-10");
    let e = p.validate().unwrap_err().to_string();
    assert!(e.contains("at most 1 year"), "{e}");
}

#[test]
fn no_data_alert_cannot_be_disabled() {
    let mut p = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, d("2026-01-10"));
    p.policy.no_data_hours = 0;
    assert!(
        p.validate()
            .unwrap_err()
            .to_string()
            .contains("cannot be disabled")
    );
}

fn t1(monitoring: Monitoring, injections: u8) -> Prescription {
    Prescription::new(DiabetesType::Type1, monitoring, injections, d("2026-01-10"))
}

// SPEC §3: thresholds checked against each other; SPEC §2: weekly data, readings a day.
// Each refusal names the rule it breaks.
#[rstest]
#[case::severe_above_level1(|p: &mut Prescription| p.policy.severe_mg_dl = 80.0, Some("severe-hypo threshold (80 mg/dL) must be below hypo level 1 (70 mg/dL)"))]
#[case::severe_at_level1(|p: &mut Prescription| p.policy.severe_mg_dl = 70.0, Some("must be below hypo level 1"))]
#[case::severe_below_level2(|p: &mut Prescription| p.policy.severe_mg_dl = 40.0, None)]
#[case::level2_at_level1(|p: &mut Prescription| p.policy.hypo_l2_mg_dl = 70.0, Some("hypo level 2 (70 mg/dL) must be below hypo level 1"))]
#[case::level1_above_target(|p: &mut Prescription| p.policy.hypo_l1_mg_dl = 75.0, Some("hypo level 1 (75 mg/dL) must not be above the target range's low bound (70 mg/dL)"))]
#[case::cgm_level1_above_target(|p: &mut Prescription| p.policy.hypo_l1_cgm_mg_dl = 72.0, Some("hypo level 1 for CGM (72 mg/dL) must not be above"))]
#[case::level1_below_target(|p: &mut Prescription| p.policy.target.low_mg_dl = 75.0, None)]
#[case::no_data_a_week(|p: &mut Prescription| p.policy.no_data_hours = 168, None)]
#[case::no_data_over_a_week(|p: &mut Prescription| p.policy.no_data_hours = 169, Some("must be at most 7 days (168 hours)"))]
#[case::no_data_u32_max(|p: &mut Prescription| p.policy.no_data_hours = u32::MAX, Some("the no-data delay (4294967295 hours) must be at most 7 days"))]
fn thresholds_are_checked_against_each_other(
    #[case] change: fn(&mut Prescription),
    #[case] refused: Option<&str>,
) {
    let mut p = t1(Monitoring::Cgm, 4);
    change(&mut p);
    match (p.validate(), refused) {
        (Ok(()), None) => {}
        (Err(e), Some(why)) => assert!(e.to_string().contains(why), "{e}"),
        (got, want) => panic!("got {got:?}, wanted a refusal containing {want:?}"),
    }
}

#[rstest]
#[case::one_injection_2(Monitoring::Capillary, 1, false, 2.0, true)]
#[case::one_injection_4(Monitoring::Capillary, 1, false, 4.0, true)]
#[case::one_injection_5(Monitoring::Capillary, 1, false, 5.0, false)]
#[case::one_injection_1_5(Monitoring::Capillary, 1, false, 1.5, false)]
#[case::three_injections_3(Monitoring::Capillary, 3, false, 3.0, false)]
#[case::three_injections_4(Monitoring::Capillary, 3, false, 4.0, true)]
#[case::pump_2(Monitoring::Capillary, 1, true, 2.0, false)]
#[case::flash_3(Monitoring::Flash, 4, false, 3.0, false)]
#[case::flash_4(Monitoring::Flash, 4, false, 4.0, true)]
fn readings_a_day_follow_the_regulation(
    #[case] monitoring: Monitoring,
    #[case] injections: u8,
    #[case] pump: bool,
    #[case] per_day: f64,
    #[case] valid: bool,
) {
    let mut p = t1(monitoring, injections);
    p.pump = pump;
    p.expected_readings_per_day = per_day;
    let got = p.validate();
    assert_eq!(got.is_ok(), valid, "{got:?}");
    if let Err(e) = got {
        let e = e.to_string();
        let rule = match monitoring {
            Monitoring::Flash => "at least 4 times a day",
            _ if pump || injections > 1 => "at least 4 readings a day",
            _ => "2 to 4 readings a day",
        };
        assert!(e.contains(rule), "{e}");
    }
}

#[test]
fn insulin_types_need_insulin() {
    let p = Prescription::new(
        DiabetesType::Type2Insulin,
        Monitoring::Capillary,
        0,
        d("2026-01-10"),
    );
    assert!(p.validate().is_err());
}
