//! Dexcom Clarity exports: UTF-8 with a BOM; header `Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event
//! Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin
//! Value (u),Carb Value (grams),Duration (hh:mm:ss),…`; first rows without a timestamp are the
//! patient, device and alert settings (never data); then `EGV` rows (local times without zone),
//! `Calibration`, `Insulin` (Fast-Acting → bolus, Long-Acting → basal), `Carbs`, `Exercise`,
//! `Health` and `Notes`. A glucose of `Low`/`High` is LO/HI.
//!
//! An account in French gets the same columns in French (`Horodatage (AAAA-MM-JJThh:mm:ss)`,
//! `Type d'événement`, `Valeur du glucose (mg/dL)`…). No French export with a public licence was
//! found, so the French words are read by keyword (columns) and by a small table (event types,
//! subtypes, `Bas`/`Élevé`); a word outside it refuses its row with the word named, never
//! silently.

use chrono::NaiveDateTime;
use ilot_domain::{
    Activity, ActivityIntensity, Carbs, EntryKind, GlucoseLevel, GlucoseReading, GlucoseUnit,
    InsulinDelivery, InsulinDose, InsulinKind, MealContext, Note, ReadingType,
};

use crate::clock::When;
use crate::fields::{Columns, Draft, Gathered, Origins, field, number, reader, unit_in};
use crate::why::{Made, Why};
use crate::{Format, Import, Options, Result, err};

pub(crate) fn parse(text: &str, opts: &Options) -> Result<Import> {
    let lines = crate::fields::Lines::new(text);
    let mut g = Gathered::new(Format::DexcomClarity);
    let mut origins = Origins::default();
    let sep = crate::fields::separator(text.lines().next().unwrap_or(""));
    let mut rows = reader(text, sep).into_records();
    let header = match rows.next() {
        Some(Ok(h)) => h,
        _ => return err("Dexcom Clarity export without its header line"),
    };
    let c = Columns::new(header.iter());
    // English, or French as Clarity writes it for an account in French.
    let has = |h: &str, words: &[&str]| words.iter().any(|w| h.contains(w));
    let (Some(time), Some(event)) = (
        c.find(|h| has(h, &["timestamp", "horodatage"])),
        c.find(|h| {
            has(h, &["event type", "type d'événement", "type d’événement"]) && !h.contains("sous")
        }),
    ) else {
        return err("Dexcom Clarity header without Timestamp or Event Type");
    };
    let subtype = c.find(|h| has(h, &["event subtype", "sous-type"]));
    let patient = c.find(|h| has(h, &["patient info", "patient"]));
    let device_info = c.find(|h| has(h, &["device info", "informations sur l'appareil"]));
    let source = c.find(|h| has(h, &["source device id", "appareil source"]));
    let glucose = c.find(|h| {
        has(
            h,
            &["glucose value", "valeur du glucose", "valeur de glucose"],
        ) && !h.contains("/min")
    });
    let insulin = c.find(|h| has(h, &["insulin value", "valeur d'insuline", "insuline"]));
    let carbs = c.find(|h| has(h, &["carb value", "glucides"]));
    let duration = c.find(|h| has(h, &["duration", "durée"]));
    let unit = glucose
        .and_then(|i| unit_in(c.name(i)))
        .unwrap_or(GlucoseUnit::MgPerDl);

    for r in rows {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                g.reject(lines.at(e.position()), Why::csv_row(&e));
                continue;
            }
        };
        let line = lines.of(&r);
        let kind_name = english(field(&r, Some(event)).unwrap_or(""));
        let Some(stamp) = field(&r, Some(time)) else {
            // Patient, device and alert settings: metadata, never stored as data.
            if kind_name == "Device" {
                g.device = field(&r, device_info).map(str::to_string);
                g.serial = g.serial.take().or(field(&r, source).map(str::to_string));
            }
            g.skip(&format!(
                "{} (settings)",
                if kind_name.is_empty() {
                    "metadata"
                } else {
                    kind_name
                }
            ));
            continue;
        };
        let Ok(naive) = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S"))
        else {
            g.reject(line, Why::time(stamp, " (YYYY-MM-DDThh:mm:ss expected)"));
            continue;
        };
        let sub = english(field(&r, subtype).unwrap_or(""));
        let made: Made<Option<(&'static str, EntryKind)>> = match kind_name {
            "EGV" => {
                reading(&r, glucose, unit, ReadingType::Interstitial).map(|k| Some(("egv", k)))
            }
            "Calibration" => {
                reading(&r, glucose, unit, ReadingType::Capillary).map(|k| Some(("calibration", k)))
            }
            "Insulin" => match sub {
                "Fast-Acting" => {
                    dose(&r, insulin, InsulinKind::Bolus).map(|k| Some(("fast-insulin", k)))
                }
                "Long-Acting" => {
                    dose(&r, insulin, InsulinKind::Basal).map(|k| Some(("long-insulin", k)))
                }
                other => Err(Why::unknown_word(
                    other,
                    format!(
                        "insulin of unknown type {other:?} (Fast-Acting or Long-Acting expected)"
                    ),
                )),
            },
            "Carbs" => match field(&r, carbs) {
                Some(v) => number("carbohydrates", v)
                    .and_then(|n| Carbs::new(n, None).map_err(Why::from))
                    .map(|c| Some(("carbs", EntryKind::Carbs(c)))),
                None => Err(Why::no_value(
                    "carbohydrates",
                    "carbs event without a value",
                )),
            },
            "Exercise" => exercise(&r, sub, duration).map(|k| Some(("exercise", k))),
            "Health" | "Notes" | "Note" => {
                let text = [sub, field(&r, patient).unwrap_or("")]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(": ");
                if text.is_empty() {
                    Ok(None)
                } else {
                    Note::new(format!("{kind_name}: {text}"))
                        .map(|n| Some(("note", EntryKind::Note(n))))
                        .map_err(Why::from)
                }
            }
            "Alert" | "Device" | "FirstName" | "LastName" | "DateOfBirth" => Ok(None),
            other => Err(Why::unknown_word(
                other,
                format!("unknown event type {other:?}"),
            )),
        };
        match made {
            Ok(Some((record, kind))) => {
                let serial = field(&r, source).unwrap_or("");
                match origins.get("dexcom", serial, record) {
                    Ok(origin) => g.drafts.push(Draft {
                        line,
                        record,
                        origin,
                        when: When::Local(naive),
                        kind,
                    }),
                    Err(e) => g.reject(line, e),
                }
            }
            Ok(None) => g.skip(&format!("{kind_name} without data")),
            Err(reason) => g.reject(line, reason),
        }
    }
    Ok(g.finish(opts))
}

fn reading(
    r: &csv::StringRecord,
    col: Option<usize>,
    unit: GlucoseUnit,
    t: ReadingType,
) -> Made<EntryKind> {
    let Some(v) = field(r, col) else {
        return Err(Why::no_value("glucose", "glucose event without a value"));
    };
    let level = GlucoseLevel::parse(out_of_range(v), unit).map_err(Why::from)?;
    Ok(EntryKind::Glucose(GlucoseReading::new(
        level,
        t,
        MealContext::Other,
    )))
}

fn dose(r: &csv::StringRecord, col: Option<usize>, kind: InsulinKind) -> Made<EntryKind> {
    let Some(v) = field(r, col) else {
        return Err(Why::no_value(
            "insulin dose",
            "insulin event without a value",
        ));
    };
    InsulinDose::parse(v, kind, InsulinDelivery::Pen)
        .map(EntryKind::Insulin)
        .map_err(Why::from)
}

fn exercise(r: &csv::StringRecord, sub: &str, duration: Option<usize>) -> Made<EntryKind> {
    let intensity = match sub {
        "Light" => ActivityIntensity::Light,
        "Medium" => ActivityIntensity::Moderate,
        "Heavy" => ActivityIntensity::Vigorous,
        other => {
            return Err(Why::unknown_word(
                other,
                format!("exercise of unknown intensity {other:?}"),
            ));
        }
    };
    let Some(d) = field(r, duration) else {
        return Err(Why::no_value(
            "activity duration",
            "exercise without a duration",
        ));
    };
    let parts: Vec<u32> = d.split(':').filter_map(|p| p.parse().ok()).collect();
    let minutes = match parts[..] {
        [h, m, 0] => h * 60 + m,
        [h, m] => h * 60 + m,
        _ => {
            return Err(Why::new(
                "duration-unreadable",
                serde_json::json!({ "value": d }),
                format!("cannot read the duration {d:?} (hh:mm:ss in whole minutes)"),
            ));
        }
    };
    Activity::new(minutes, intensity, None)
        .map(EntryKind::Activity)
        .map_err(Why::from)
}

/// Clarity's French words for its event types, subtypes and out-of-range values, as the English
/// export names them; any other text is returned as it is (and refused with its name if unknown).
fn english(word: &str) -> &str {
    match word.to_lowercase().as_str() {
        "insuline" => "Insulin",
        "glucides" => "Carbs",
        "étalonnage" | "etalonnage" => "Calibration",
        "exercice" | "exercice physique" => "Exercise",
        "santé" | "sante" => "Health",
        "remarques" | "remarque" => "Notes",
        "alerte" => "Alert",
        "appareil" => "Device",
        "prénom" | "prenom" => "FirstName",
        "nom" | "nom de famille" => "LastName",
        "date de naissance" => "DateOfBirth",
        "action rapide" | "insuline à action rapide" => "Fast-Acting",
        "action lente" | "action prolongée" | "action longue" | "insuline à action lente" => {
            "Long-Acting"
        }
        "léger" | "légère" | "faible" => "Light",
        "moyen" | "moyenne" | "modéré" | "modérée" => "Medium",
        "intense" | "élevée" | "soutenu" | "soutenue" => "Heavy",
        _ => word,
    }
}

/// A glucose value out of the sensor's range as the French export writes it (`Bas`, `Élevé`).
fn out_of_range(value: &str) -> &str {
    match value.to_lowercase().as_str() {
        "bas" | "basse" => "Low",
        "élevé" | "élevée" | "haut" | "haute" => "High",
        _ => value,
    }
}
