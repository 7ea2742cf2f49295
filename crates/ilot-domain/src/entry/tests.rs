use super::*;
use crate::GlucoseUnit;
use rstest::rstest;

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

#[test]
fn future_times_are_refused_beyond_the_skew() {
    let now = t("2026-03-01T10:00:00Z").with_timezone(&Utc);
    let kind = EntryKind::Note(Note::new("ok").unwrap());
    assert!(
        Entry::new(
            t("2026-03-01T11:04:00+01:00"),
            Source::manual(),
            kind.clone(),
            now
        )
        .is_ok()
    );
    let e = Entry::new(t("2026-03-01T11:06:00+01:00"), Source::manual(), kind, now).unwrap_err();
    assert!(e.to_string().contains("in the future"), "{e}");
}

#[rstest]
#[case(6.0, InsulinDelivery::Pen, true)]
#[case(6.5, InsulinDelivery::Pen, true)]
#[case(0.1, InsulinDelivery::Manual, true)]
#[case(6.25, InsulinDelivery::Pen, false)]
#[case(0.35, InsulinDelivery::Pump, true)]
#[case(0.0, InsulinDelivery::Pen, false)]
#[case(-2.0, InsulinDelivery::Pen, false)]
#[case(200.0, InsulinDelivery::Pen, false)]
fn insulin_units(#[case] u: f64, #[case] d: InsulinDelivery, #[case] ok: bool) {
    assert_eq!(InsulinDose::new(u, InsulinKind::Bolus, d).is_ok(), ok);
}

#[test]
fn too_precise_dose_is_not_rounded() {
    let e = InsulinDose::new(6.25, InsulinKind::Basal, InsulinDelivery::Pen).unwrap_err();
    assert_eq!(
        e.to_string(),
        "insulin dose has more precision than 0.1 U: 6.25"
    );
}

#[rstest]
#[case("fasting", MealContext::Fasting)]
#[case("After-Meal-2h", MealContext::AfterMeal2h)]
fn contexts_parse(#[case] s: &str, #[case] c: MealContext) {
    assert_eq!(s.parse::<MealContext>().unwrap(), c);
}

#[test]
fn unknown_context_lists_the_choices() {
    let e = "lunch".parse::<MealContext>().unwrap_err().to_string();
    assert!(e.contains("fasting before-meal after-meal-1h"), "{e}");
}

#[test]
fn entries_round_trip_through_json() {
    let g = Glucose::new(1.26, GlucoseUnit::GramsPerLitre).unwrap();
    let e = Entry {
        at: t("2026-03-01T08:00:00+01:00"),
        source: Source::device(
            SourceKind::Meter,
            DeviceId::new("roche:guide:123").unwrap(),
            7,
        ),
        kind: EntryKind::Glucose(GlucoseReading::capillary(g, MealContext::Fasting)),
    };
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), e);
}

#[rstest]
#[case(Weight::new(10.0).is_err())]
#[case(HbA1c::new(25.0).is_err())]
#[case(Ketones::new(12.0, KetoneSource::Blood).is_err())]
#[case(Ketones::new(5.0, KetoneSource::Urine).is_err())]
#[case(Carbs::new(0.0, None).is_err())]
#[case(Activity::new(0, ActivityIntensity::Light, None).is_err())]
#[case(Note::new("  ").is_err())]
fn implausible_values_are_refused(#[case] refused: bool) {
    assert!(refused);
}
