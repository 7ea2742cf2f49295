//! One-line descriptions of entries for the terminal (English: the CLI is the technical front
//! door; the patient app speaks French first through its catalogue).

use chrono_tz::Tz;
use ilot_domain::{Entry, EntryKind, GlucoseLevel, GlucoseUnit};

pub fn glucose(level: GlucoseLevel, unit: GlucoseUnit) -> String {
    match level {
        GlucoseLevel::Value(g) => format!("{} {unit}", g.format(unit, false)),
        GlucoseLevel::Lo => "LO (below the meter's range)".into(),
        GlucoseLevel::Hi => "HI (above the meter's range)".into(),
    }
}

pub fn entry_line(entry: &Entry, unit: GlucoseUnit) -> String {
    format!(
        "{} at {}",
        what(&entry.kind, unit),
        entry.at.format("%Y-%m-%d %H:%M %:z")
    )
}

pub fn local_line(entry: &Entry, unit: GlucoseUnit, tz: Tz) -> String {
    format!(
        "{}  {}",
        entry.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        what(&entry.kind, unit)
    )
}

pub fn what(kind: &EntryKind, unit: GlucoseUnit) -> String {
    match kind {
        EntryKind::Glucose(r) => {
            let given = match r.level {
                GlucoseLevel::Value(g) if g.unit() != unit => {
                    format!(" (given as {} {})", g.value(), g.unit())
                }
                _ => String::new(),
            };
            format!(
                "glucose {}{given}, {}, {}",
                glucose(r.level, unit),
                r.reading_type,
                r.context
            )
        }
        EntryKind::Insulin(d) => {
            let name = d
                .insulin_name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            format!("insulin {} U {}{name} ({})", d.units(), d.kind, d.delivery)
        }
        EntryKind::Carbs(c) => format!(
            "carbohydrates {} g{}",
            c.grams(),
            c.label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default()
        ),
        EntryKind::Hypo(h) => {
            let help = if h.needed_help {
                ", needed help (level 3)"
            } else {
                ""
            };
            let g = h
                .glucose
                .map(|g| format!(" at {}", glucose(GlucoseLevel::Value(g), unit)))
                .unwrap_or_default();
            format!(
                "hypoglycaemia{g}{help}{}",
                h.treatment
                    .as_deref()
                    .map(|t| format!(", treated with {t}"))
                    .unwrap_or_default()
            )
        }
        EntryKind::Ketones(k) => match k.source {
            ilot_domain::KetoneSource::Blood => format!("blood ketones {} mmol/L", k.value()),
            ilot_domain::KetoneSource::Urine => format!("urine ketones {} crosses", k.value()),
        },
        EntryKind::Weight(w) => format!("weight {} kg", w.kg()),
        EntryKind::Hba1c(h) => format!("HbA1c {} %", h.percent()),
        EntryKind::Activity(a) => format!("activity {} min, {}", a.minutes(), a.intensity),
        EntryKind::Note(n) => format!("note: {}", n.text()),
        EntryKind::Education(s) => {
            let understanding = s
                .understanding
                .as_deref()
                .map(|u| format!(", understanding: {u}"))
                .unwrap_or_default();
            format!(
                "education session: {}{understanding}",
                s.topics().join(", ")
            )
        }
    }
}

/// A rules level (mg/dL, LO or HI) in the patient's unit.
pub fn level(level: ilot_rules::Level, unit: GlucoseUnit) -> String {
    match level {
        ilot_rules::Level::MgDl(v) => match ilot_domain::Glucose::from_mg_dl(v) {
            Ok(g) => format!("{} {unit}", g.format(unit, false)),
            Err(_) => format!("{v} mg/dL"),
        },
        ilot_rules::Level::Lo => "LO".into(),
        ilot_rules::Level::Hi => "HI".into(),
    }
}

/// The advice behind an alert's advice key, in English for the terminal. The app shows the same
/// keys from its French-first catalogue.
pub fn advice(key: &str) -> &'static str {
    use ilot_rules::alerts::advice::*;
    match key {
        HYPO_RESUGAR => {
            "take 15 g of fast sugar (3 sugar cubes or 150 mL of fruit juice), check again in 15 minutes, repeat if still low"
        }
        HYPO_SEVERE => {
            "very low: take 15 g of fast sugar now if you can swallow safely and check again in 15 minutes; if not, someone gives glucagon and calls 15 (SAMU)"
        }
        HYPO_REPEATED => {
            "several hypoglycaemias in a few days: tell your care team, your treatment may need adjusting"
        }
        HYPER => "high glucose: drink water, check again, correct as your care team taught you",
        HYPER_KETONES => {
            "high glucose: check your ketones, drink water, correct as your care team taught you"
        }
        OUT_OF_TARGET => {
            "outside your target: note what happened (meal, activity, dose); your care team will see it"
        }
        TBR => "too much time low over 14 days: your care team will review your treatment",
        NO_DATA => {
            "nothing received for a while: open the app, check the network and the meter (this is not an emergency service)"
        }
        INSULIN_MISSED => {
            "a prescribed basal dose is not logged: log it if you took it; never take a double dose"
        }
        _ => "see your care team's instructions",
    }
}
