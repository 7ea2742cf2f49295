//! Glucose as the ANS "Mesures de santé" guide asks (IG `ans.fhir.fr.mesures` 3.1.0, canonical
//! <https://interop.esante.gouv.fr/ig/fhir/mesures>). Sources, read in the guide's repository
//! (ansforge/IG-fhir-mesures-de-sante) and its published StructureDefinitions:
//! - `MesObservationGlucose` (`StructureDefinition-mesures-observation-glucose`, base
//!   `vitalsigns`): category `vital-signs` (display pattern "vital-signs"), `code` bound
//!   (extensible) to JDV_J154-TypeGlucose-ENS with `system` and `code` required, `value[x]` only
//!   `Quantity` with `system` = UCUM and `code` bound (required) to JDV_J163-GlucoseUnits-ENS
//!   (`mg/dL`, `%`), `dataAbsentReason.coding` with `system` and `code`, `effective[x]` only
//!   `dateTime`, `subject` → fr-core-patient, `device` → `PhdDevice` (must support).
//! - JDV_J154 (NOS 2025-07): LOINC 2345-7 (glucose sanguin), 99504-3 (glucose interstitiel),
//!   4548-4 (HbA1c), and the index de gestion de glycémie (IGG = GMI) `MED-972`; the guide's own
//!   copy (2021) codes interstitial glucose and IGG with TA_ASIP `MED-969` / `MED-972`. The
//!   binding is extensible, so both codings are sent.
//! - `MesOriginOfData` (`mesures-origin-of-data`): `hasBeenConverted` (true), `originalCode`
//!   (CodeableConcept), `originalValue` (Quantity), all three required; present only when the
//!   value was converted.
//! - `MesMomentOfMeasurement` (`mesures-moment-of-measurement`): one coding from
//!   JDV_J157-MomentGlucose-ENS (53049-3 fasting, 88365-2 before a meal, 16915-1 post-prandial,
//!   LA46-8 other), used for blood glucose.
//! - `MesNumberOfDays` (`mesures-number-of-days`): the period of an IGG, JDV_J164 (7/14/30/90 days
//!   or "other").
//!
//! LO/HI: the profile allows only a `Quantity` value, so a reading beyond the meter's range has no
//! value, `dataAbsentReason` `unknown` (the value exists but is not known) and the interpretation
//! `<` / `>` ("off scale low/high", v3-ObservationInterpretation); its text says LO or HI.

use serde_json::{Map, Value, json};

use super::exact;
use crate::error::Result;
use crate::{GlucoseLevel, GlucoseReading, GlucoseUnit, HbA1c, MealContext, ReadingType};

const IG: &str = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition";
pub const GLUCOSE_PROFILE: &str = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-observation-glucose";
pub const FR_CORE_PATIENT: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient";
pub const FLUX_BUNDLE_PROFILE: &str = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-bundle-flux-alimentation";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const TA_ASIP: &str = "https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP";
const CISIS: &str = "https://smt.esante.gouv.fr/fhir/CodeSystem/terminologie-cisis";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

fn ucum(value: Value, unit: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM, "code": unit })
}

pub fn vital_signs() -> Value {
    json!([{ "coding": [{ "system": CATEGORY, "code": "vital-signs", "display": "vital-signs" }] }])
}

/// `code`: the JDV_J154 coding first, then a more precise one where it exists.
fn glucose_code(t: ReadingType) -> Value {
    match t {
        ReadingType::Capillary => json!({
            "coding": [
                coding(LOINC, "2345-7", "Glucose [Masse/Volume] Sérum/Plasma ; Numérique"),
                coding(LOINC, "41653-7", "Glucose [Mass/volume] in Capillary blood by Glucometer"),
            ],
            "text": "Glycémie capillaire",
        }),
        // A flash scan is interstitial glucose read on demand: the same code as the history.
        ReadingType::Interstitial | ReadingType::Scan => json!({
            "coding": [
                coding(LOINC, "99504-3", "Glucose [Masse/Volume] Liquide interstitiel ; Numérique"),
                coding(TA_ASIP, "MED-969", "Glucose interstitiel"),
            ],
            "text": "Glucose interstitiel",
        }),
        ReadingType::Lab => json!({
            "coding": [coding(LOINC, "2345-7", "Glucose [Masse/Volume] Sérum/Plasma ; Numérique")],
            "text": "Glycémie (laboratoire)",
        }),
    }
}

/// The LOINC code of the reading in the unit the patient gave (`MesOriginOfData.originalCode`).
fn original_code(t: ReadingType, unit: GlucoseUnit) -> Value {
    let moles = unit == GlucoseUnit::MmolPerLitre;
    let (code, display) = match (t, moles) {
        (ReadingType::Capillary, false) => (
            "41653-7",
            "Glucose [Mass/volume] in Capillary blood by Glucometer",
        ),
        (ReadingType::Capillary, true) => (
            "14743-9",
            "Glucose [Moles/volume] in Capillary blood by Glucometer",
        ),
        (ReadingType::Interstitial | ReadingType::Scan, false) => {
            ("99504-3", "Glucose [Mass/volume] in Interstitial fluid")
        }
        (ReadingType::Interstitial | ReadingType::Scan, true) => {
            ("105272-9", "Glucose [Moles/volume] in Interstitial fluid")
        }
        (ReadingType::Lab, false) => ("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
        (ReadingType::Lab, true) => ("14749-6", "Glucose [Moles/volume] in Serum or Plasma"),
    };
    json!({ "coding": [coding(LOINC, code, display)] })
}

/// `MesMomentOfMeasurement` for a blood glucose (JDV_J157: one coding; the text keeps Ilot's
/// finer context).
fn moment(c: MealContext) -> Value {
    let (code, display, text) = match c {
        MealContext::Fasting => ("53049-3", "Glucose à jeun", "à jeun"),
        MealContext::BeforeMeal => ("88365-2", "Avant repas", "avant le repas"),
        MealContext::AfterMeal1h => ("16915-1", "Glucose post prandial", "1 h après le repas"),
        MealContext::AfterMeal2h => ("16915-1", "Glucose post prandial", "2 h après le repas"),
        MealContext::Bedtime => ("LA46-8", "Autre", "au coucher"),
        MealContext::Night => ("LA46-8", "Autre", "la nuit"),
        MealContext::Other => ("LA46-8", "Autre", "autre moment"),
    };
    json!({
        "url": format!("{IG}/mesures-moment-of-measurement"),
        "valueCodeableConcept": { "coding": [coding(LOINC, code, display)], "text": text },
    })
}

/// `MesOriginOfData` for a value converted to mg/dL: the value and code as the patient gave them.
fn origin_of_data(t: ReadingType, value: f64, unit: GlucoseUnit) -> Result<Value> {
    Ok(json!({
        "url": format!("{IG}/mesures-origin-of-data"),
        "extension": [
            { "url": "hasBeenConverted", "valueBoolean": true },
            { "url": "originalCode", "valueCodeableConcept": original_code(t, unit) },
            { "url": "originalValue", "valueQuantity": ucum(exact::as_given(value)?, unit.symbol()) },
        ],
    }))
}

fn profiled(o: &mut Map<String, Value>, extensions: Vec<Value>) {
    o.insert("meta".into(), json!({ "profile": [GLUCOSE_PROFILE] }));
    if !extensions.is_empty() {
        o.insert("extension".into(), Value::Array(extensions));
    }
    o.insert("category".into(), vital_signs());
}

/// A glucose reading as `MesObservationGlucose`: fills `o` (an Observation without id, subject,
/// effective time or device).
pub fn glucose(g: &GlucoseReading, o: &mut Map<String, Value>) -> Result<()> {
    let mut extensions = Vec::new();
    // The guide uses the moment for blood glucose only (a sensor reading has no meal moment).
    if matches!(g.reading_type, ReadingType::Capillary | ReadingType::Lab) {
        extensions.push(moment(g.context));
    }
    match g.level {
        GlucoseLevel::Value(v) => {
            if v.unit() != GlucoseUnit::MgPerDl {
                extensions.push(origin_of_data(g.reading_type, v.value(), v.unit())?);
            }
            let mg = exact::number(exact::mg_dl(v.value(), v.unit())?)?;
            profiled(o, extensions);
            o.insert("code".into(), glucose_code(g.reading_type));
            o.insert("valueQuantity".into(), ucum(mg, "mg/dL"));
        }
        GlucoseLevel::Lo | GlucoseLevel::Hi => {
            let (code, display, text) = if g.level == GlucoseLevel::Lo {
                (
                    "<",
                    "Off scale low",
                    "LO : sous la plage de mesure du lecteur",
                )
            } else {
                (
                    ">",
                    "Off scale high",
                    "HI : au-dessus de la plage de mesure du lecteur",
                )
            };
            profiled(o, extensions);
            o.insert("code".into(), glucose_code(g.reading_type));
            o.insert(
                "dataAbsentReason".into(),
                json!({ "coding": [coding(ABSENT, "unknown", "Unknown")], "text": text }),
            );
            o.insert(
                "interpretation".into(),
                json!([{ "coding": [coding(INTERPRETATION, code, display)], "text": text }]),
            );
        }
    }
    Ok(())
}

/// An HbA1c result as `MesObservationGlucose` (JDV_J154 4548-4, JDV_J163 `%`).
pub fn hba1c(h: &HbA1c, o: &mut Map<String, Value>) -> Result<()> {
    profiled(o, Vec::new());
    o.insert(
        "code".into(),
        json!({
            "coding": [coding(LOINC, "4548-4", "Hémoglobine A1c/hémoglobine totale [Fraction massique] Sang ; Numérique")],
            "text": "HbA1c",
        }),
    );
    o.insert(
        "valueQuantity".into(),
        ucum(exact::as_given(h.percent())?, "%"),
    );
    Ok(())
}

/// The glucose management indicator over a CGM period, computed by the caller (`ilot-rules`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gmi {
    pub percent: f64,
    pub start: chrono::DateTime<chrono::FixedOffset>,
    pub end: chrono::DateTime<chrono::FixedOffset>,
    /// Days the period covers.
    pub days: u32,
}

/// The GMI as `MesObservationGlucose`: IGG code, `%`, effective at the period's end (the profile
/// allows only a dateTime), `MesNumberOfDays` from JDV_J164.
pub fn gmi(g: &Gmi, o: &mut Map<String, Value>) -> Result<()> {
    let (code, display) = match g.days {
        7 => ("GEN-275", "7j"),
        14 => ("GEN-276", "14j"),
        30 => ("GEN-277", "30j"),
        90 => ("GEN-278", "90j"),
        _ => ("GEN-092.08.05", "Autre(s) nombre de jours"),
    };
    let days = json!({
        "url": format!("{IG}/mesures-number-of-days"),
        "valueCodeableConcept": { "coding": [coding(CISIS, code, display)], "text": format!("{} jours", g.days) },
    });
    profiled(o, vec![days]);
    o.insert(
        "code".into(),
        json!({
            "coding": [
                coding(CISIS, "MED-972", "Index de gestion de glycémie (IGG)"),
                coding(TA_ASIP, "MED-972", "Index de gestion de glycémie (IGG)"),
            ],
            "text": "Index de gestion de glycémie (GMI)",
        }),
    );
    // A computed index, written with every digit the computation gave.
    o.insert(
        "valueQuantity".into(),
        ucum(exact::as_given(g.percent)?, "%"),
    );
    Ok(())
}
