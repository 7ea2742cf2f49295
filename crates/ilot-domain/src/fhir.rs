//! HL7 FHIR R4 export of a patient's entries (data portability, SPEC §2): one `Bundle` of type
//! `collection` with a pseudonymous `Patient`, an `Observation` per measurement or event and a
//! `MedicationAdministration` per insulin dose. Pure: entries in, JSON out.
//!
//! Decisions:
//! - **Values as given**: a glucose typed in g/L is exported in g/L (UCUM `g/L`), one read in
//!   mmol/L in mmol/L; nothing is converted or rounded. The LOINC code follows the reading type and
//!   the unit's dimension (mass or moles per volume). Meter "LO"/"HI" readings carry no number:
//!   `valueString` "LO"/"HI" with the interpretation L/H ("below/above the meter's range").
//! - LOINC codes are given only where the concept is exact: capillary glucose by meter (41653-7
//!   mass, 14743-9 moles), glucose in interstitial fluid (99504-3, mass), serum/plasma glucose
//!   (2345-7 mass, 14749-6 moles), body weight (29463-7), HbA1c (4548-4). Other entries (carbs,
//!   ketones, hypo events, activity, notes, education sessions, interstitial glucose in mmol/L)
//!   carry `code.text` only rather than a guessed code. A flash sensor scan is interstitial glucose
//!   like the sensor's history (same code) with `method.text` "flash sensor scan (on demand)".
//! - Resource ids are `e<entry id>-v<version>`; `meta.versionId` is the entry's version and an
//!   `identifier` (`urn:ilot:entry`) keeps the entry id, so corrections stay traceable. The patient
//!   is identified by the pseudonym only (no name, no INS: the file may travel).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::{Entry, EntryKind, GlucoseLevel, GlucoseUnit, KetoneSource, ReadingType};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const PATIENT_REF: &str = "Patient/patient";
/// `Observation.method` of a flash sensor scan (text only: no exact code exists).
const SCAN_METHOD: &str = "flash sensor scan (on demand)";

/// One entry version to export.
#[derive(Debug, Clone, Copy)]
pub struct Exported<'a> {
    pub id: i64,
    pub version: u32,
    pub entry: &'a Entry,
}

/// The bundle: the patient (by `pseudonym`) and every entry, in the order given.
pub fn bundle<'a>(
    pseudonym: &str,
    entries: impl IntoIterator<Item = Exported<'a>>,
    generated_at: DateTime<Utc>,
) -> Value {
    let patient = json!({
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{ "system": "urn:ilot:pseudonym", "value": pseudonym }],
    });
    let mut items = vec![json!({ "fullUrl": "urn:ilot:Patient/patient", "resource": patient })];
    for e in entries {
        let r = resource(e);
        let url = format!(
            "urn:ilot:{}/{}",
            r["resourceType"].as_str().unwrap_or(""),
            r["id"].as_str().unwrap_or("")
        );
        items.push(json!({ "fullUrl": url, "resource": r }));
    }
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "entry": items,
    })
}

fn coding(code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": LOINC, "code": code, "display": display }], "text": display })
}

fn text(t: &str) -> Value {
    json!({ "text": t })
}

fn quantity(value: f64, unit: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM, "code": unit })
}

fn category(code: &str) -> Value {
    json!([{ "coding": [{ "system": CATEGORY, "code": code }] }])
}

fn glucose_code(t: ReadingType, unit: Option<GlucoseUnit>) -> Value {
    let moles = unit == Some(GlucoseUnit::MmolPerLitre);
    match (t, moles) {
        (ReadingType::Capillary, false) => coding(
            "41653-7",
            "Glucose [Mass/volume] in Capillary blood by Glucometer",
        ),
        (ReadingType::Capillary, true) => coding(
            "14743-9",
            "Glucose [Moles/volume] in Capillary blood by Glucometer",
        ),
        (ReadingType::Interstitial | ReadingType::Scan, false) => {
            coding("99504-3", "Glucose [Mass/volume] in Interstitial fluid")
        }
        (ReadingType::Interstitial | ReadingType::Scan, true) => {
            text("Glucose [Moles/volume] in Interstitial fluid")
        }
        (ReadingType::Lab, false) => coding("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
        (ReadingType::Lab, true) => coding("14749-6", "Glucose [Moles/volume] in Serum or Plasma"),
    }
}

fn component(label: &str, value: Value) -> Value {
    let mut c = json!({ "code": text(label) });
    if let Value::Object(m) = value {
        c.as_object_mut().expect("object").extend(m);
    }
    c
}

fn resource(e: Exported<'_>) -> Value {
    let entry = e.entry;
    let mut r = match &entry.kind {
        EntryKind::Insulin(d) => {
            let label = match &d.insulin_name {
                Some(n) => format!("insulin {n} ({})", d.kind.name()),
                None => format!("insulin ({})", d.kind.name()),
            };
            json!({
                "resourceType": "MedicationAdministration",
                "status": "completed",
                "medicationCodeableConcept": text(&label),
                "effectiveDateTime": time(entry),
                "dosage": {
                    "dose": { "value": d.units(), "unit": "U", "system": UCUM, "code": "[iU]" },
                    "method": text(d.delivery.name()),
                },
            })
        }
        kind => {
            let mut o = json!({
                "resourceType": "Observation",
                "status": "final",
                "effectiveDateTime": time(entry),
            });
            observation(kind, o.as_object_mut().expect("object"));
            o
        }
    };
    let m = r.as_object_mut().expect("object");
    m.insert("id".into(), json!(format!("e{}-v{}", e.id, e.version)));
    m.insert("meta".into(), json!({ "versionId": e.version.to_string() }));
    m.insert(
        "identifier".into(),
        json!([{ "system": "urn:ilot:entry", "value": e.id.to_string() }]),
    );
    m.insert("subject".into(), json!({ "reference": PATIENT_REF }));
    if let Some(d) = &entry.source.device {
        // Observation.device is one reference, MedicationAdministration.device a list.
        let device = json!({ "display": d.as_str() });
        let device = match entry.kind {
            EntryKind::Insulin(_) => json!([device]),
            _ => device,
        };
        m.insert("device".into(), device);
    }
    r
}

fn time(e: &Entry) -> String {
    e.at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn observation(kind: &EntryKind, o: &mut serde_json::Map<String, Value>) {
    let mut set = |k: &str, v: Value| {
        o.insert(k.into(), v);
    };
    match kind {
        EntryKind::Glucose(g) => {
            set("category", category("laboratory"));
            match g.level {
                GlucoseLevel::Value(v) => {
                    set("code", glucose_code(g.reading_type, Some(v.unit())));
                    set("valueQuantity", quantity(v.value(), v.unit().symbol()));
                }
                GlucoseLevel::Lo | GlucoseLevel::Hi => {
                    let (s, code, why) = match g.level {
                        GlucoseLevel::Lo => ("LO", "L", "below the meter's range"),
                        _ => ("HI", "H", "above the meter's range"),
                    };
                    set("code", glucose_code(g.reading_type, None));
                    set("valueString", json!(s));
                    set(
                        "interpretation",
                        json!([{ "coding": [{ "system": INTERPRETATION, "code": code }], "text": why }]),
                    );
                }
            }
            if g.reading_type == ReadingType::Scan {
                // The same interstitial glucose as a sensor's history; the method says it was
                // read on demand (no exact code for a scan exists).
                set("method", text(SCAN_METHOD));
            }
            set(
                "component",
                json!([component(
                    "meal context",
                    json!({ "valueString": g.context.name() })
                )]),
            );
        }
        EntryKind::Weight(w) => {
            set("category", category("vital-signs"));
            set("code", coding("29463-7", "Body weight"));
            set("valueQuantity", quantity(w.kg(), "kg"));
        }
        EntryKind::Hba1c(h) => {
            set("category", category("laboratory"));
            set(
                "code",
                coding("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
            );
            set("valueQuantity", quantity(h.percent(), "%"));
        }
        EntryKind::Carbs(c) => {
            set("category", category("survey"));
            set(
                "code",
                text(
                    c.label
                        .as_deref()
                        .map_or("carbohydrates eaten".into(), |l| {
                            format!("carbohydrates eaten: {l}")
                        })
                        .as_str(),
                ),
            );
            set("valueQuantity", quantity(c.grams(), "g"));
        }
        EntryKind::Ketones(k) => {
            set("category", category("laboratory"));
            match k.source {
                KetoneSource::Blood => {
                    set(
                        "code",
                        text("ketones (beta-hydroxybutyrate) in capillary blood"),
                    );
                    set("valueQuantity", quantity(k.value(), "mmol/L"));
                }
                KetoneSource::Urine => {
                    set("code", text("ketones in urine (strip crosses)"));
                    set("valueString", json!(format!("{}+", k.value())));
                }
            }
        }
        EntryKind::Hypo(h) => {
            set("category", category("survey"));
            set("code", text("hypoglycaemia event reported by the patient"));
            set("valueBoolean", json!(h.needed_help));
            let mut parts = vec![component(
                "needed help from someone",
                json!({ "valueBoolean": h.needed_help }),
            )];
            for s in &h.symptoms {
                parts.push(component("symptom", json!({ "valueString": s })));
            }
            if let Some(t) = &h.treatment {
                parts.push(component("treatment", json!({ "valueString": t })));
            }
            if let Some(g) = h.glucose {
                parts.push(component(
                    "glucose at the time",
                    json!({ "valueQuantity": quantity(g.value(), g.unit().symbol()) }),
                ));
            }
            set("component", json!(parts));
        }
        EntryKind::Activity(a) => {
            set("category", category("activity"));
            set("code", text("physical activity"));
            set("valueQuantity", quantity(f64::from(a.minutes()), "min"));
            let mut parts = vec![component(
                "intensity",
                json!({ "valueString": a.intensity.name() }),
            )];
            if let Some(d) = &a.description {
                parts.push(component("description", json!({ "valueString": d })));
            }
            set("component", json!(parts));
        }
        EntryKind::Note(n) => {
            set("category", category("survey"));
            set("code", text("patient note"));
            set("valueString", json!(n.text()));
        }
        EntryKind::Education(s) => {
            set("category", category("survey"));
            set("code", text("therapeutic education session"));
            set("valueString", json!(s.topics().join(", ")));
            let mut parts = Vec::new();
            for (label, v) in [
                ("understanding", &s.understanding),
                ("notes", &s.notes),
                ("next goals", &s.next_goals),
                ("educator", &s.educator),
            ] {
                if let Some(v) = v {
                    parts.push(component(label, json!({ "valueString": v })));
                }
            }
            parts.push(component(
                "remote session",
                json!({ "valueBoolean": s.remote }),
            ));
            set("component", json!(parts));
        }
        // A MedicationAdministration, built by `resource`.
        EntryKind::Insulin(_) => {}
    }
}

#[cfg(test)]
mod tests;
