use super::*;
use chrono::TimeZone;
use ilot_domain::{DiabetesType, Monitoring};
use rstest::rstest;

fn policy(t: DiabetesType) -> AlertPolicy {
    AlertPolicy::defaults(t, Monitoring::Capillary)
}

// SPEC §3: hypo level 1 < 70, level 2 < 54, hyper > 250 (type 1/2), target 70–180 mg/dL;
// gestational: level 1 < 60 capillary / < 63 CGM, hyper > 200, fasting ≤ 95, 1 h ≤ 140, 2 h ≤ 120.
#[rstest]
#[case(DiabetesType::Type1, 53.9, false, MealContext::Other, Zone::VeryLow)]
#[case(DiabetesType::Type1, 54.0, false, MealContext::Other, Zone::Low)]
#[case(DiabetesType::Type1, 69.9, false, MealContext::Other, Zone::Low)]
#[case(DiabetesType::Type1, 70.0, false, MealContext::Other, Zone::InRange)]
#[case(DiabetesType::Type1, 180.0, false, MealContext::Other, Zone::InRange)]
#[case(DiabetesType::Type1, 181.0, false, MealContext::Other, Zone::High)]
#[case(DiabetesType::Type1, 250.0, false, MealContext::Other, Zone::High)]
#[case(DiabetesType::Type1, 251.0, false, MealContext::Other, Zone::VeryHigh)]
#[case(
    DiabetesType::GestationalInsulin,
    96.0,
    false,
    MealContext::Fasting,
    Zone::High
)]
#[case(
    DiabetesType::GestationalInsulin,
    95.0,
    false,
    MealContext::Fasting,
    Zone::InRange
)]
#[case(
    DiabetesType::GestationalInsulin,
    130.0,
    false,
    MealContext::AfterMeal1h,
    Zone::InRange
)]
#[case(
    DiabetesType::GestationalInsulin,
    130.0,
    false,
    MealContext::AfterMeal2h,
    Zone::High
)]
#[case(
    DiabetesType::GestationalInsulin,
    201.0,
    false,
    MealContext::AfterMeal2h,
    Zone::VeryHigh
)]
#[case(
    DiabetesType::GestationalInsulin,
    62.0,
    true,
    MealContext::Other,
    Zone::Low
)]
fn zones_follow_the_policy(
    #[case] t: DiabetesType,
    #[case] mg_dl: f64,
    #[case] cgm: bool,
    #[case] ctx: MealContext,
    #[case] expected: Zone,
) {
    assert_eq!(zone(&policy(t), Level::MgDl(mg_dl), cgm, ctx), expected);
}

#[test]
fn lo_and_hi_are_very_low_and_very_high() {
    let p = policy(DiabetesType::Type1);
    assert_eq!(
        zone(&p, Level::Lo, false, MealContext::Other),
        Zone::VeryLow
    );
    assert_eq!(
        zone(&p, Level::Hi, false, MealContext::Other),
        Zone::VeryHigh
    );
}

fn cgm_series(values: &[f64]) -> Vec<GlucosePoint> {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    values
        .iter()
        .enumerate()
        .map(|(i, v)| GlucosePoint {
            id: i as u64 + 1,
            at: t0 + TimeDelta::minutes(5 * i as i64),
            level: Level::MgDl(*v),
            cgm: true,
            scan: false,
            context: MealContext::Other,
        })
        .collect()
}

// Rates in mg/dL per minute over 5-minute readings: +2.5/min is +12.5 per reading.
#[rstest]
#[case(&[100.0, 100.0, 100.0, 100.0], Direction::Stable)]
#[case(&[100.0, 107.5, 115.0, 122.5], Direction::RisingSlowly)]
#[case(&[100.0, 112.5, 125.0, 137.5], Direction::Rising)]
#[case(&[100.0, 120.0, 140.0, 160.0], Direction::RisingFast)]
#[case(&[160.0, 152.5, 145.0, 137.5], Direction::FallingSlowly)]
#[case(&[160.0, 147.5, 135.0, 122.5], Direction::Falling)]
#[case(&[160.0, 140.0, 120.0, 100.0], Direction::FallingFast)]
fn trend_bands(#[case] values: &[f64], #[case] expected: Direction) {
    assert_eq!(trend(&cgm_series(values)).unwrap().direction, expected);
}

#[test]
fn no_arrow_without_enough_cgm() {
    assert_eq!(trend(&cgm_series(&[100.0, 120.0])), None);
    let mut capillary = cgm_series(&[100.0, 110.0, 120.0, 130.0]);
    capillary.last_mut().unwrap().cgm = false;
    assert_eq!(trend(&capillary), None);
}
