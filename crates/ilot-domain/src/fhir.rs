//! HL7 FHIR R4 export of a patient's entries (data portability, SPEC §2). Pure: entries in, JSON
//! out. Two shapes:
//! - [`collection`]: the patient's full export, one `Bundle` of type `collection` with the
//!   pseudonymous patient (fr-core-patient), the meters and CGMs (`PhdDevice`, [`device`]), an
//!   `Observation` per measurement or event and a `MedicationAdministration` per insulin dose.
//! - [`feed`]: the ANS "Mesures de santé" feed (`MesBundleFluxAlimentation`): one `transaction`
//!   bundle per glucose observation, with its device as a conditional create, as the guide's
//!   flow defines it (one observation per bundle, `POST Observation` / `POST Device` +
//!   `ifNoneExist`).
//!
//! Decisions:
//! - Glucose readings, HbA1c and the GMI follow the ANS profile `MesObservationGlucose` ([`ans`]
//!   cites the StructureDefinitions): mg/dL converted **exactly** ([`exact`]), the value as the
//!   patient gave it kept in `MesOriginOfData`, LO/HI as `dataAbsentReason` + interpretation, the
//!   meal context in `MesMomentOfMeasurement`, `Observation.device` → the `PhdDevice`.
//!   A manual reading has no device (the profile's "required when measured by a connected
//!   device" does not apply).
//! - Other entries (weight, carbs, ketones, hypo events, activity, notes, education sessions,
//!   insulin) are plain R4: LOINC only where the concept is exact (body weight 29463-7), otherwise
//!   `code.text` rather than a guessed code; values in their own unit.
//! - Every `fullUrl` is a `urn:uuid:` derived (UUID v5) from the pseudonym and the entry id +
//!   version, the same for the same data; references point at those `urn:uuid:`s, so they resolve
//!   inside the bundle. `meta.versionId` is the entry's version and an `identifier`
//!   (`urn:ilot:entry`) keeps the entry id, so corrections stay traceable. The patient is
//!   identified by the pseudonym only (no name, no INS: the file may travel), except in the
//!   server's export of a *qualifiée* identity ([`collection_with_identity`], [`patient`]).

pub mod ans;
pub mod device;
mod exact;
pub mod patient;

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

pub use ans::Gmi;
use device::DeviceKind;

use crate::error::Result;
use crate::{DeviceId, Entry, EntryKind, KetoneSource};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
use patient::PSEUDONYM;
/// Namespace of Ilot's name-based UUIDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_93d7_4b0a_8e52_1d7c_0b3a_9f61);

/// One entry version to export.
#[derive(Debug, Clone, Copy)]
pub struct Exported<'a> {
    pub id: i64,
    pub version: u32,
    pub entry: &'a Entry,
}

fn uuid(name: &str) -> String {
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

fn urn(id: &str) -> String {
    format!("urn:uuid:{id}")
}

/// The devices behind glucose readings, first seen first, with their UUIDs.
struct Devices(Vec<(DeviceId, DeviceKind, String)>, HashMap<String, String>);

impl Devices {
    fn of<'a>(entries: impl IntoIterator<Item = &'a Exported<'a>>) -> Self {
        let mut list = Vec::new();
        let mut ids = HashMap::new();
        for e in entries {
            if let (EntryKind::Glucose(g), Some(d)) = (&e.entry.kind, &e.entry.source.device)
                && !ids.contains_key(d.as_str())
            {
                let id = uuid(&format!("device/{d}"));
                ids.insert(d.to_string(), id.clone());
                list.push((d.clone(), DeviceKind::of(g.reading_type), id));
            }
        }
        Self(list, ids)
    }

    fn id(&self, d: &DeviceId) -> Option<&str> {
        self.1.get(d.as_str()).map(String::as_str)
    }

    fn resource(&self, d: &DeviceId) -> Option<Value> {
        let (_, kind, id) = self.0.iter().find(|(x, _, _)| x == d)?;
        let mut r = device::phd_device(d, *kind);
        r["id"] = json!(id);
        Some(r)
    }
}

/// The patient's full export: a `collection` with the patient, the devices, every entry in the
/// order given and, when there is one, the GMI of the CGM period.
pub fn collection<'a>(
    pseudonym: &str,
    entries: impl IntoIterator<Item = Exported<'a>>,
    gmi: Option<&Gmi>,
    generated_at: DateTime<Utc>,
) -> Result<Value> {
    collection_with_identity(pseudonym, None, entries, gmi, generated_at)
}

/// [`collection`] for a record that holds the patient's identity (the server's): the Patient
/// carries the INS and the strict traits only when the identity is *qualifiée*
/// ([`patient::resource`]); otherwise the pseudonym only.
pub fn collection_with_identity<'a>(
    pseudonym: &str,
    identity: Option<&crate::ins::Identity>,
    entries: impl IntoIterator<Item = Exported<'a>>,
    gmi: Option<&Gmi>,
    generated_at: DateTime<Utc>,
) -> Result<Value> {
    let entries: Vec<Exported<'a>> = entries.into_iter().collect();
    let patient_id = uuid(&format!("patient/{pseudonym}"));
    let subject = json!({ "reference": urn(&patient_id) });
    let mut patient = patient::resource(pseudonym, identity);
    patient["id"] = json!(patient_id);
    let mut items = vec![json!({ "fullUrl": urn(&patient_id), "resource": patient })];
    let devices = Devices::of(&entries);
    for (d, _, id) in &devices.0 {
        let r = devices.resource(d).expect("listed");
        items.push(json!({ "fullUrl": urn(id), "resource": r }));
    }
    for e in &entries {
        let r = resource(pseudonym, *e, &subject, &devices)?;
        let url = urn(r["id"].as_str().unwrap_or_default());
        items.push(json!({ "fullUrl": url, "resource": r }));
    }
    if let Some(g) = gmi {
        let r = gmi_resource(pseudonym, g, &subject)?;
        let url = urn(r["id"].as_str().unwrap_or_default());
        items.push(json!({ "fullUrl": url, "resource": r }));
    }
    Ok(json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "entry": items,
    }))
}

/// The ANS feed: one `transaction` bundle (`MesBundleFluxAlimentation`) per glucose, HbA1c or GMI
/// observation, in the order given; other entries have no ANS profile and are not fed. The
/// subject is the patient's identifier (the feed carries no Patient resource).
pub fn feed<'a>(
    pseudonym: &str,
    entries: impl IntoIterator<Item = Exported<'a>>,
    gmi: Option<&Gmi>,
    generated_at: DateTime<Utc>,
) -> Result<Vec<Value>> {
    let entries: Vec<Exported<'a>> = entries.into_iter().collect();
    let subject = json!({ "identifier": { "system": PSEUDONYM, "value": pseudonym } });
    let devices = Devices::of(&entries);
    let post = |r: Value, url: &str, if_none_exist: Option<String>| {
        let mut request = json!({ "method": "POST", "url": url });
        if let Some(q) = if_none_exist {
            request["ifNoneExist"] = json!(q);
        }
        json!({ "fullUrl": urn(r["id"].as_str().unwrap_or_default()), "resource": r, "request": request })
    };
    let wrap = |items: Vec<Value>| {
        json!({
            "resourceType": "Bundle",
            "meta": { "profile": [ans::FLUX_BUNDLE_PROFILE] },
            "type": "transaction",
            "timestamp": generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "entry": items,
        })
    };
    let mut out = Vec::new();
    for e in &entries {
        if !matches!(e.entry.kind, EntryKind::Glucose(_) | EntryKind::Hba1c(_)) {
            continue;
        }
        let mut items = Vec::new();
        if let Some(d) = &e.entry.source.device
            && let Some(r) = devices.resource(d)
        {
            items.push(post(r, "Device", Some(device::if_none_exist(d))));
        }
        let r = resource(pseudonym, *e, &subject, &devices)?;
        items.push(post(r, "Observation", None));
        out.push(wrap(items));
    }
    if let Some(g) = gmi {
        let r = gmi_resource(pseudonym, g, &subject)?;
        out.push(wrap(vec![post(r, "Observation", None)]));
    }
    Ok(out)
}

fn gmi_resource(pseudonym: &str, g: &Gmi, subject: &Value) -> Result<Value> {
    let mut o = Map::new();
    o.insert("resourceType".into(), json!("Observation"));
    let id = uuid(&format!("{pseudonym}/gmi/{}/{}", g.start, g.end));
    o.insert("id".into(), json!(id));
    o.insert("status".into(), json!("final"));
    ans::gmi(g, &mut o)?;
    o.insert("subject".into(), subject.clone());
    o.insert(
        "effectiveDateTime".into(),
        json!(g.end.to_rfc3339_opts(SecondsFormat::Secs, false)),
    );
    Ok(Value::Object(o))
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

fn component(label: &str, value: Value) -> Value {
    let mut c = json!({ "code": text(label) });
    if let Value::Object(m) = value {
        c.as_object_mut().expect("object").extend(m);
    }
    c
}

fn resource(pseudonym: &str, e: Exported<'_>, subject: &Value, devices: &Devices) -> Result<Value> {
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
            let mut o = Map::new();
            o.insert("resourceType".into(), json!("Observation"));
            o.insert("status".into(), json!("final"));
            o.insert("effectiveDateTime".into(), json!(time(entry)));
            match kind {
                EntryKind::Glucose(g) => ans::glucose(g, &mut o)?,
                EntryKind::Hba1c(h) => ans::hba1c(h, &mut o)?,
                other => observation(other, &mut o),
            }
            Value::Object(o)
        }
    };
    let m = r.as_object_mut().expect("object");
    let id = uuid(&format!("{pseudonym}/entry/{}/{}", e.id, e.version));
    m.insert("id".into(), json!(id));
    let meta = m.entry("meta").or_insert_with(|| json!({}));
    meta["versionId"] = json!(e.version.to_string());
    m.insert(
        "identifier".into(),
        json!([{ "system": "urn:ilot:entry", "value": e.id.to_string() }]),
    );
    m.insert("subject".into(), subject.clone());
    if let Some(d) = &entry.source.device {
        let device = match devices.id(d) {
            Some(id) => json!({ "reference": urn(id), "display": d.as_str() }),
            None => json!({ "display": d.as_str() }),
        };
        // Observation.device is one reference, MedicationAdministration.device a list.
        let device = match entry.kind {
            EntryKind::Insulin(_) => json!([device]),
            _ => device,
        };
        m.insert("device".into(), device);
    }
    Ok(r)
}

fn time(e: &Entry) -> String {
    e.at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn observation(kind: &EntryKind, o: &mut Map<String, Value>) {
    let mut set = |k: &str, v: Value| {
        o.insert(k.into(), v);
    };
    match kind {
        EntryKind::Weight(w) => {
            set("category", ans::vital_signs());
            set("code", coding("29463-7", "Body weight"));
            set("valueQuantity", quantity(w.kg(), "kg"));
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
        // Built by `resource`: ANS glucose profiles and the MedicationAdministration.
        EntryKind::Glucose(_) | EntryKind::Hba1c(_) | EntryKind::Insulin(_) => {}
    }
}

#[cfg(test)]
mod tests;
