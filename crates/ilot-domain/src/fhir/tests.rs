use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::{
    Activity, ActivityIntensity, Carbs, DeviceId, EducationSession, Glucose, GlucoseLevel,
    GlucoseReading, GlucoseUnit, HbA1c, HypoEvent, InsulinDelivery, InsulinDose, InsulinKind,
    Ketones, MealContext, Note, ReadingType, Source, SourceKind, Weight,
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
    let b = collection(
        "P-042",
        [Exported {
            id: 7,
            version: 2,
            entry: e,
        }],
        None,
        now(),
    )
    .unwrap();
    // The patient, then the device when the entry has one, then the entry.
    b["entry"].as_array().unwrap().last().unwrap()["resource"].clone()
}

fn glucose(level: GlucoseLevel, t: ReadingType, c: MealContext) -> Value {
    one(&entry(EntryKind::Glucose(GlucoseReading::new(level, t, c))))
}

fn value(v: f64, unit: GlucoseUnit) -> GlucoseLevel {
    GlucoseLevel::Value(Glucose::new(v, unit).unwrap())
}

fn extension<'a>(r: &'a Value, name: &str) -> Option<&'a Value> {
    r["extension"]
        .as_array()?
        .iter()
        .find(|x| x["url"].as_str().is_some_and(|u| u.ends_with(name)))
}

#[test]
fn a_bundle_has_the_pseudonymous_patient_then_every_entry() {
    let a = entry(EntryKind::Note(Note::new("fatigué").unwrap()));
    let b = entry(EntryKind::Weight(Weight::new(71.4).unwrap()));
    let out = collection(
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
        None,
        now(),
    )
    .unwrap();
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
    assert_eq!(
        items[0]["resource"]["meta"]["profile"][0],
        ans::FR_CORE_PATIENT
    );
    // Every fullUrl is a urn:uuid, the resource's id is that uuid, and references resolve.
    for i in items {
        let id = i["resource"]["id"].as_str().unwrap();
        assert_eq!(i["fullUrl"], format!("urn:uuid:{id}"));
        assert!(Uuid::parse_str(id).is_ok(), "{id}");
    }
    assert_eq!(items[2]["resource"]["meta"]["versionId"], "3");
    assert_eq!(items[2]["resource"]["identifier"][0]["value"], "2");
    assert_eq!(
        items[2]["resource"]["subject"]["reference"],
        items[0]["fullUrl"]
    );
    // The same data gives the same ids; another version another id.
    let again = collection(
        "P-042",
        [Exported {
            id: 2,
            version: 4,
            entry: &b,
        }],
        None,
        now(),
    )
    .unwrap();
    assert_eq!(again["entry"][0]["fullUrl"], items[0]["fullUrl"]);
    assert_ne!(again["entry"][1]["fullUrl"], items[2]["fullUrl"]);
}

#[test]
fn a_glucose_is_the_ans_profile_in_exact_mg_dl_with_the_given_value_kept() {
    let r = glucose(
        value(1.26, GlucoseUnit::GramsPerLitre),
        ReadingType::Capillary,
        MealContext::Fasting,
    );
    assert_eq!(r["meta"]["profile"][0], ans::GLUCOSE_PROFILE);
    assert_eq!(r["category"][0]["coding"][0]["code"], "vital-signs");
    assert_eq!(r["code"]["coding"][0]["code"], "2345-7");
    assert_eq!(r["code"]["coding"][1]["code"], "41653-7");
    assert_eq!(r["valueQuantity"]["value"], 126);
    assert_eq!(r["valueQuantity"]["code"], "mg/dL");
    assert_eq!(r["valueQuantity"]["system"], "http://unitsofmeasure.org");
    assert_eq!(r["effectiveDateTime"], "2026-11-22T08:05:00+01:00");
    let origin = extension(&r, "mesures-origin-of-data").unwrap();
    assert_eq!(origin["extension"][0]["valueBoolean"], true);
    assert_eq!(
        origin["extension"][1]["valueCodeableConcept"]["coding"][0]["code"],
        "41653-7"
    );
    assert_eq!(origin["extension"][2]["valueQuantity"]["value"], 1.26);
    assert_eq!(origin["extension"][2]["valueQuantity"]["code"], "g/L");
    let moment = extension(&r, "mesures-moment-of-measurement").unwrap();
    assert_eq!(
        moment["valueCodeableConcept"]["coding"][0]["code"],
        "53049-3"
    );

    // mmol/L: converted with SPEC's 18.016, digit for digit.
    let r = glucose(
        value(5.5, GlucoseUnit::MmolPerLitre),
        ReadingType::Capillary,
        MealContext::AfterMeal2h,
    );
    assert_eq!(
        serde_json::to_string(&r["valueQuantity"]["value"]).unwrap(),
        "99.088"
    );
    let origin = extension(&r, "mesures-origin-of-data").unwrap();
    assert_eq!(origin["extension"][2]["valueQuantity"]["value"], 5.5);
    assert_eq!(
        origin["extension"][1]["valueCodeableConcept"]["coding"][0]["code"],
        "14743-9"
    );
    let moment = extension(&r, "mesures-moment-of-measurement").unwrap();
    assert_eq!(
        moment["valueCodeableConcept"]["coding"][0]["code"],
        "16915-1"
    );
    assert_eq!(moment["valueCodeableConcept"]["text"], "2 h après le repas");

    // mg/dL as given: nothing converted, no origin extension; a CGM reading has no meal moment.
    let r = glucose(
        value(185.4, GlucoseUnit::MgPerDl),
        ReadingType::Interstitial,
        MealContext::Other,
    );
    assert_eq!(r["valueQuantity"]["value"], 185.4);
    assert!(r.get("extension").is_none(), "{r}");
    assert_eq!(r["code"]["coding"][0]["code"], "99504-3");
    assert_eq!(r["code"]["coding"][1]["code"], "MED-969");
}

#[test]
fn a_scan_is_interstitial_glucose_without_a_meal_moment() {
    let r = glucose(
        value(96.0, GlucoseUnit::MgPerDl),
        ReadingType::Scan,
        MealContext::BeforeMeal,
    );
    assert_eq!(r["code"]["coding"][0]["code"], "99504-3");
    assert_eq!(r["code"]["coding"][1]["code"], "MED-969");
    assert_eq!(r["valueQuantity"]["value"], 96.0);
    assert!(
        extension(&r, "mesures-moment-of-measurement").is_none(),
        "{r}"
    );
    assert_eq!(
        device::DeviceKind::of(ReadingType::Scan),
        device::DeviceKind::Cgm
    );
}

#[test]
fn lo_and_hi_have_no_value_but_an_absent_reason_and_off_scale_interpretation() {
    for (level, code, said) in [(GlucoseLevel::Lo, "<", "LO"), (GlucoseLevel::Hi, ">", "HI")] {
        let r = glucose(level, ReadingType::Capillary, MealContext::BeforeMeal);
        assert!(r.get("valueQuantity").is_none() && r.get("valueString").is_none());
        assert_eq!(r["dataAbsentReason"]["coding"][0]["code"], "unknown");
        assert!(
            r["dataAbsentReason"]["text"]
                .as_str()
                .unwrap()
                .starts_with(said)
        );
        assert_eq!(r["interpretation"][0]["coding"][0]["code"], code);
        assert_eq!(r["meta"]["profile"][0], ans::GLUCOSE_PROFILE);
    }
}

#[test]
fn the_meter_is_a_phd_device_that_each_of_its_readings_references() {
    let at = DateTime::parse_from_rfc3339("2026-11-22T08:05:00+01:00").unwrap();
    let meter = DeviceId::new("C4:7C:8D:6A:1B:02").unwrap();
    let g = |n: u32, v: f64| {
        Entry::new(
            at + chrono::TimeDelta::minutes(i64::from(n)),
            Source::device(SourceKind::Meter, meter.clone(), n),
            EntryKind::Glucose(GlucoseReading::capillary(
                Glucose::new(v, GlucoseUnit::GramsPerLitre).unwrap(),
                MealContext::Other,
            )),
            now(),
        )
        .unwrap()
    };
    let (a, b) = (g(1, 0.95), g(2, 1.1));
    let exported = [
        Exported {
            id: 1,
            version: 1,
            entry: &a,
        },
        Exported {
            id: 2,
            version: 1,
            entry: &b,
        },
    ];
    let out = collection("P-042", exported, None, now()).unwrap();
    let items = out["entry"].as_array().unwrap();
    assert_eq!(items.len(), 4, "patient, one device, two readings");
    let device = &items[1];
    assert_eq!(device["resource"]["resourceType"], "Device");
    assert_eq!(device["resource"]["meta"]["profile"][0], device::PHD_DEVICE);
    for i in &items[2..] {
        assert_eq!(i["resource"]["device"]["reference"], device["fullUrl"]);
    }

    // The feed: one transaction per reading, each with the device as a conditional create.
    let feed = feed("P-042", exported, None, now()).unwrap();
    assert_eq!(feed.len(), 2);
    for b in &feed {
        assert_eq!(b["type"], "transaction");
        assert_eq!(b["meta"]["profile"][0], ans::FLUX_BUNDLE_PROFILE);
        let e = b["entry"].as_array().unwrap();
        assert_eq!(e[0]["request"]["method"], "POST");
        assert_eq!(e[0]["request"]["url"], "Device");
        assert_eq!(
            e[0]["request"]["ifNoneExist"],
            "identifier=urn:ilot:device|C4:7C:8D:6A:1B:02"
        );
        assert_eq!(e[1]["request"]["url"], "Observation");
        assert_eq!(e[1]["resource"]["device"]["reference"], e[0]["fullUrl"]);
        assert_eq!(e[1]["resource"]["subject"]["identifier"]["value"], "P-042");
    }
}

#[test]
fn the_gmi_is_an_igg_observation_with_its_number_of_days() {
    let start = DateTime::parse_from_rfc3339("2026-11-08T00:00:00+01:00").unwrap();
    let end = DateTime::parse_from_rfc3339("2026-11-22T00:00:00+01:00").unwrap();
    let gmi = Gmi {
        percent: 6.83,
        start,
        end,
        days: 14,
    };
    let out = collection("P-042", [], Some(&gmi), now()).unwrap();
    let r = &out["entry"][1]["resource"];
    assert_eq!(r["code"]["coding"][0]["code"], "MED-972");
    assert_eq!(r["valueQuantity"]["value"], 6.83);
    assert_eq!(r["valueQuantity"]["code"], "%");
    assert_eq!(
        extension(r, "mesures-number-of-days").unwrap()["valueCodeableConcept"]["coding"][0]["code"],
        "GEN-276"
    );
    assert_eq!(r["effectiveDateTime"], "2026-11-22T00:00:00+01:00");
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
    assert!(
        r["device"][0].get("reference").is_none(),
        "no Device for a pen"
    );
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

mod ins_patient {
    use super::*;
    use crate::ins::{Identity, IdentityProof, Ins, InsSex, InsTraits, OID_NIR_TEST};
    use chrono::NaiveDate;

    /// PAT-TROIS Dominique, the ANS's published test identity (test NIR, OID …4.10).
    fn identity() -> Identity {
        let traits = InsTraits::new(
            "PAT-TROIS".into(),
            "DOMINIQUE MARIE-LOUISE".into(),
            NaiveDate::from_ymd_opt(1979, 3, 28).unwrap(),
            InsSex::Female,
            "63220".into(),
        )
        .unwrap();
        Identity::provisional(
            traits,
            Some(Ins::new("2 79 03 51 215 189 89", OID_NIR_TEST).unwrap()),
        )
    }

    fn patient(id: &Identity) -> Value {
        let e = entry(EntryKind::Note(Note::new("x").unwrap()));
        let b = collection_with_identity(
            "P-042",
            Some(id),
            [Exported {
                id: 1,
                version: 1,
                entry: &e,
            }],
            None,
            now(),
        )
        .unwrap();
        b["entry"][0]["resource"].clone()
    }

    #[test]
    fn an_identity_not_qualified_exports_the_pseudonym_only() {
        let provisional = identity();
        let recovered = provisional.prove(IdentityProof::InsiRetrieved).unwrap();
        let validated = provisional.prove(IdentityProof::DocumentChecked).unwrap();
        for id in [&provisional, &recovered, &validated] {
            let p = patient(id);
            let text = p.to_string();
            assert_eq!(p["identifier"].as_array().unwrap().len(), 1, "{p}");
            assert_eq!(p["identifier"][0]["system"], "urn:ilot:pseudonym");
            assert!(!text.contains("279035121518989"), "{:?}: {p}", id.status);
            assert!(!text.contains("PAT-TROIS"), "{:?}: {p}", id.status);
            assert_eq!(p["meta"]["profile"][0], ans::FR_CORE_PATIENT);
        }
    }

    #[test]
    fn a_qualified_identity_exports_the_ins_with_its_oid_and_the_traits_as_given() {
        let q = identity()
            .prove(IdentityProof::InsiRetrieved)
            .unwrap()
            .prove(IdentityProof::DocumentChecked)
            .unwrap();
        let p = patient(&q);
        assert_eq!(p["meta"]["profile"][0], patient::FR_CORE_PATIENT_INS);
        let ins = &p["identifier"][0];
        assert_eq!(ins["system"], "urn:oid:1.2.250.1.213.1.4.10");
        assert_eq!(ins["value"], "279035121518989");
        assert_eq!(ins["use"], "official");
        assert_eq!(ins["type"]["coding"][0]["code"], "INS-NIR");
        assert_eq!(ins["type"]["coding"][0]["system"], patient::FR_CORE_ID_TYPE);
        assert_eq!(p["identifier"][1]["value"], "P-042");
        assert_eq!(p["name"][0]["family"], "PAT-TROIS");
        assert_eq!(p["name"][0]["given"][0], "DOMINIQUE");
        assert_eq!(
            p["name"][0]["extension"][0]["valueString"],
            "DOMINIQUE MARIE-LOUISE"
        );
        assert_eq!(p["gender"], "female");
        assert_eq!(p["birthDate"], "1979-03-28");
        let place = &p["extension"][0]["valueAddress"]["extension"][0]["valueCoding"]["code"];
        assert_eq!(place, "63220");
        // An amendment drops the status back: the INS leaves the export again.
        let mut t = q.traits.clone();
        t.first_names = "DOMINIQUE".into();
        let amended = q.amend(t, q.ins.clone());
        assert_eq!(patient(&amended)["identifier"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_nia_is_typed_ins_nia() {
        use crate::ins::InsAuthority;
        assert_eq!(patient::ins_type(InsAuthority::Nia), "INS-NIA");
        assert_eq!(patient::ins_type(InsAuthority::NiaTest), "INS-NIA");
        assert_eq!(patient::ins_type(InsAuthority::Nir), "INS-NIR");
    }
}
