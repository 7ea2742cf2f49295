use chrono::{DateTime, Utc};
use serde_json::Value;

use super::*;
use crate::{
    Activity, ActivityIntensity, Carbs, DeviceId, EducationSession, Glucose, GlucoseReading, HbA1c,
    HypoEvent, InsulinDelivery, InsulinDose, InsulinKind, Ketones, MealContext, Note, Source,
    SourceKind, Weight,
};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn entry(kind: EntryKind) -> Entry {
    let at = DateTime::parse_from_rfc3339("2026-11-22T08:05:00+01:00").unwrap();
    Entry::new(at, Source::manual(), kind, now()).unwrap()
}

fn one(e: &Entry) -> Value {
    let b = bundle(
        "P-042",
        [Exported {
            id: 7,
            version: 2,
            entry: e,
        }],
        now(),
    );
    b["entry"][1]["resource"].clone()
}

#[test]
fn a_bundle_has_the_pseudonymous_patient_then_every_entry() {
    let a = entry(EntryKind::Note(Note::new("fatigué").unwrap()));
    let b = entry(EntryKind::Weight(Weight::new(71.4).unwrap()));
    let out = bundle(
        "P-042",
        [
            Exported {
                id: 1,
                version: 1,
                entry: &a,
            },
            Exported {
                id: 2,
                version: 3,
                entry: &b,
            },
        ],
        now(),
    );
    assert_eq!(out["resourceType"], "Bundle");
    assert_eq!(out["type"], "collection");
    assert_eq!(out["timestamp"], "2026-11-22T10:00:00Z");
    let items = out["entry"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["resource"]["resourceType"], "Patient");
    assert_eq!(items[0]["resource"]["identifier"][0]["value"], "P-042");
    assert!(
        items[0]["resource"].get("name").is_none(),
        "no name in the file"
    );
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["patient", "e1-v1", "e2-v3"]);
    assert_eq!(items[2]["fullUrl"], "urn:ilot:Observation/e2-v3");
    assert_eq!(items[2]["resource"]["meta"]["versionId"], "3");
    assert_eq!(
        items[2]["resource"]["subject"]["reference"],
        "Patient/patient"
    );
}

#[test]
fn a_glucose_keeps_the_value_and_unit_as_given_with_the_loinc_of_its_kind() {
    let g = Glucose::parse("1,26", GlucoseUnit::GramsPerLitre).unwrap();
    let r = one(&entry(EntryKind::Glucose(GlucoseReading::capillary(
        g,
        MealContext::Fasting,
    ))));
    assert_eq!(r["resourceType"], "Observation");
    assert_eq!(r["code"]["coding"][0]["code"], "41653-7");
    assert_eq!(r["valueQuantity"]["value"], 1.26);
    assert_eq!(r["valueQuantity"]["code"], "g/L");
    assert_eq!(r["effectiveDateTime"], "2026-11-22T08:05:00+01:00");
    assert_eq!(r["component"][0]["valueString"], "fasting");

    let mmol = Glucose::new(7.1, GlucoseUnit::MmolPerLitre).unwrap();
    let r = one(&entry(EntryKind::Glucose(GlucoseReading::capillary(
        mmol,
        MealContext::Other,
    ))));
    assert_eq!(r["code"]["coding"][0]["code"], "14743-9");
    assert_eq!(r["valueQuantity"]["value"], 7.1);
    assert_eq!(r["valueQuantity"]["unit"], "mmol/L");

    let cgm = Glucose::new(143.0, GlucoseUnit::MgPerDl).unwrap();
    let r = one(&entry(EntryKind::Glucose(GlucoseReading::cgm(cgm))));
    assert_eq!(r["code"]["coding"][0]["code"], "99504-3");
    let cgm_mmol = Glucose::new(7.9, GlucoseUnit::MmolPerLitre).unwrap();
    let r = one(&entry(EntryKind::Glucose(GlucoseReading::cgm(cgm_mmol))));
    assert!(r["code"].get("coding").is_none(), "no guessed code");
    assert_eq!(
        r["code"]["text"],
        "Glucose [Moles/volume] in Interstitial fluid"
    );
    assert!(r.get("method").is_none(), "a sensor's history is no scan");
}

#[test]
fn a_scan_is_interstitial_glucose_whose_method_says_scan() {
    let g = Glucose::new(96.0, GlucoseUnit::MgPerDl).unwrap();
    let r = one(&entry(EntryKind::Glucose(GlucoseReading::scan(g))));
    assert_eq!(r["code"]["coding"][0]["code"], "99504-3");
    assert_eq!(r["valueQuantity"]["value"], 96.0);
    assert_eq!(r["method"]["text"], "flash sensor scan (on demand)");
}

#[test]
fn lo_and_hi_carry_no_number_but_say_out_of_the_meter_range() {
    let lo = GlucoseReading::new(GlucoseLevel::Lo, ReadingType::Capillary, MealContext::Other);
    let r = one(&entry(EntryKind::Glucose(lo)));
    assert_eq!(r["valueString"], "LO");
    assert!(r.get("valueQuantity").is_none());
    assert_eq!(r["interpretation"][0]["coding"][0]["code"], "L");
    let hi = GlucoseReading::new(GlucoseLevel::Hi, ReadingType::Capillary, MealContext::Other);
    assert_eq!(
        one(&entry(EntryKind::Glucose(hi)))["interpretation"][0]["coding"][0]["code"],
        "H"
    );
}

#[test]
fn insulin_is_a_medication_administration_in_units_with_its_pen() {
    let mut dose = InsulinDose::new(18.0, InsulinKind::Basal, InsulinDelivery::Pen).unwrap();
    dose.insulin_name = Some("Toujeo".into());
    let at = DateTime::parse_from_rfc3339("2026-11-22T22:05:00+01:00").unwrap();
    let src = Source::device(SourceKind::Meter, DeviceId::new("novo:pen:123").unwrap(), 4);
    let e = Entry::new(
        at,
        src,
        EntryKind::Insulin(dose),
        now() + chrono::TimeDelta::days(1),
    )
    .unwrap();
    let r = one(&e);
    assert_eq!(r["resourceType"], "MedicationAdministration");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["dosage"]["dose"]["value"], 18.0);
    assert_eq!(r["dosage"]["dose"]["code"], "[iU]");
    assert_eq!(
        r["medicationCodeableConcept"]["text"],
        "insulin Toujeo (basal)"
    );
    assert_eq!(r["device"][0]["display"], "novo:pen:123");
}

#[test]
fn every_other_kind_becomes_an_observation_with_its_value() {
    let cases: Vec<(EntryKind, &str, Value)> = vec![
        (
            EntryKind::Weight(Weight::new(71.4).unwrap()),
            "valueQuantity",
            serde_json::json!(71.4),
        ),
        (
            EntryKind::Hba1c(HbA1c::new(7.2).unwrap()),
            "valueQuantity",
            serde_json::json!(7.2),
        ),
        (
            EntryKind::Carbs(Carbs::new(45.0, Some("déjeuner".into())).unwrap()),
            "valueQuantity",
            serde_json::json!(45.0),
        ),
        (
            EntryKind::Ketones(Ketones::new(0.8, KetoneSource::Blood).unwrap()),
            "valueQuantity",
            serde_json::json!(0.8),
        ),
        (
            EntryKind::Ketones(Ketones::new(2.0, KetoneSource::Urine).unwrap()),
            "valueString",
            serde_json::json!("2+"),
        ),
        (
            EntryKind::Activity(Activity::new(30, ActivityIntensity::Moderate, None).unwrap()),
            "valueQuantity",
            serde_json::json!(30.0),
        ),
        (
            EntryKind::Note(Note::new("repas de fête").unwrap()),
            "valueString",
            serde_json::json!("repas de fête"),
        ),
        (
            EntryKind::Education(
                EducationSession::new(vec!["hypo".into(), "meter".into()]).unwrap(),
            ),
            "valueString",
            serde_json::json!("hypo, meter"),
        ),
        (
            EntryKind::Hypo(HypoEvent {
                symptoms: vec!["sueurs".into()],
                treatment: Some("3 sucres".into()),
                needed_help: true,
                glucose: None,
            }),
            "valueBoolean",
            serde_json::json!(true),
        ),
    ];
    for (kind, field, expected) in cases {
        let name = kind.name();
        let r = one(&entry(kind));
        assert_eq!(r["resourceType"], "Observation", "{name}");
        assert_eq!(r["status"], "final", "{name}");
        let got = if field == "valueQuantity" {
            &r[field]["value"]
        } else {
            &r[field]
        };
        assert_eq!(got, &expected, "{name}");
        assert!(
            r["code"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{name}"
        );
        assert!(r["category"][0]["coding"][0]["code"].is_string(), "{name}");
    }
}
