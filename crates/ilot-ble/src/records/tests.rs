//! Expected entries are written from the rules in the module docs of `records` and
//! `gatt::convert`, with values chosen by hand.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Europe::Paris;
use ilot_domain::{GlucoseLevel, MealContext};

use super::*;
use crate::gatt::{
    CarbohydrateId, DateTime as GattDateTime, GlucoseConcentration, GlucoseStatus, GlucoseUnitCode,
    Meal, SFloat, SampleLocation, SampleType,
};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn measurement(
    seq: u16,
    mantissa: i16,
    status: Option<u16>,
    sample_type: SampleType,
) -> GlucoseMeasurement {
    GlucoseMeasurement {
        sequence: seq,
        base_time: GattDateTime {
            year: 2026,
            month: 3,
            day: 1,
            hours: 8,
            minutes: 30,
            seconds: 0,
        },
        time_offset_min: None,
        concentration: Some(GlucoseConcentration {
            value: SFloat::Value {
                mantissa,
                exponent: -5,
            },
            unit: GlucoseUnitCode::KgPerLitre,
            sample_type,
            location: SampleLocation::Finger,
        }),
        status: status.map(GlucoseStatus),
        context_follows: false,
        free_flags: 0,
    }
}

fn placing(device: &DeviceId) -> Placing<'_> {
    Placing {
        device,
        kind: SourceKind::Meter,
        model: ClockModel::LocalWall { checked: true },
        tz: Paris,
        now: at("2026-03-02T10:00:00+01:00").with_timezone(&Utc),
    }
}

fn dev() -> DeviceId {
    DeviceId::new("acme:meter:1").unwrap()
}

#[test]
fn a_reading_with_its_context_gives_glucose_and_carbs_at_the_same_time() {
    let d = dev();
    let ctx = MeasurementContext {
        sequence: 4,
        extended_flags: None,
        carbohydrate: Some((
            CarbohydrateId::Lunch,
            SFloat::Value {
                mantissa: 45,
                exponent: -3,
            },
        )),
        meal: Some(Meal::Postprandial),
        tester_health: None,
        exercise: None,
        medication: None,
        hba1c: None,
        free_flags: 0,
    };
    let r = placing(&d).meter(
        &measurement(4, 126, None, SampleType::CapillaryPlasma),
        Some(&ctx),
    );
    assert_eq!(r.issue, None);
    assert_eq!(r.entries.len(), 3, "{:?}", r.entries);
    assert!(
        r.entries
            .iter()
            .all(|e| e.at == at("2026-03-01T08:30:00+01:00") && e.source.record_number == Some(4))
    );
    match &r.entries[0].kind {
        EntryKind::Glucose(g) => {
            assert_eq!(g.level.mg_dl(), Some(126.0));
            assert_eq!(g.context, MealContext::Other);
        }
        k => panic!("{k:?}"),
    }
    match &r.entries[1].kind {
        EntryKind::Carbs(c) => assert_eq!((c.grams(), c.label.as_deref()), (45.0, Some("lunch"))),
        k => panic!("{k:?}"),
    }
    match &r.entries[2].kind {
        EntryKind::Note(n) => assert_eq!(
            n.text(),
            "meter record 4: the meter marked this reading \"after meal\" (it does not say 1 h or 2 h)"
        ),
        k => panic!("{k:?}"),
    }
}

#[test]
fn too_high_for_the_device_is_hi_whatever_the_number() {
    let d = dev();
    let r = placing(&d).meter(
        &measurement(
            5,
            600,
            Some(GlucoseStatus::RESULT_TOO_HIGH),
            SampleType::CapillaryPlasma,
        ),
        None,
    );
    match &r.entries[0].kind {
        EntryKind::Glucose(g) => assert_eq!(g.level, GlucoseLevel::Hi),
        k => panic!("{k:?}"),
    }
}

#[test]
fn a_strip_error_or_a_control_test_is_a_note_not_a_reading() {
    let d = dev();
    let p = placing(&d);
    let r = p.meter(
        &measurement(
            6,
            126,
            Some(GlucoseStatus::SAMPLE_SIZE_INSUFFICIENT),
            SampleType::CapillaryPlasma,
        ),
        None,
    );
    assert_eq!(
        r.issue,
        Some(RecordIssue::InvalidatingStatus(vec![
            "sample-size-insufficient".into()
        ]))
    );
    assert_eq!(r.entries.len(), 1);
    match &r.entries[0].kind {
        EntryKind::Note(n) => assert_eq!(
            n.text(),
            "meter record 6: no glucose stored: the device flagged the result as invalid: sample-size-insufficient; the device sent 126e-5 kg/L (126 mg/dL) at 2026-03-01 08:30:00, status sample-size-insufficient"
        ),
        k => panic!("{k:?}"),
    }
    let r = p.meter(
        &measurement(7, 126, None, SampleType::ControlSolution),
        None,
    );
    assert_eq!(r.issue, Some(RecordIssue::ControlSolution));
}

#[test]
fn an_implausible_number_is_not_clamped() {
    let d = dev();
    let r = placing(&d).meter(&measurement(8, 5, None, SampleType::CapillaryPlasma), None);
    assert!(
        matches!(r.issue, Some(RecordIssue::Implausible(_))),
        "{r:?}"
    );
}

#[test]
fn a_record_in_the_future_is_noted_at_download_time() {
    let d = dev();
    let mut m = measurement(9, 126, None, SampleType::CapillaryPlasma);
    m.base_time.day = 3;
    let r = placing(&d).meter(&m, None);
    assert!(matches!(r.issue, Some(RecordIssue::ImplausibleTime(_))));
    assert_eq!(r.entries[0].at, at("2026-03-02T10:00:00+01:00"));
}
