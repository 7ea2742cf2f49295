//! LibreView (FreeStyle Libre) exports, English or French: one preamble line (`Glucose Data,
//! Generated on,<date> UTC,…` / `Valeur de glycémie,Créé le,…`), then the header, then one row
//! per record. The glucose unit is in the column names. Record types: 0 historic (every 15 min),
//! 1 scan, 2 strip (capillary), 3 ketone, 4 insulin (rapid-acting → bolus, long-acting →
//! basal), 5 food (carbohydrates), 6 note. Times are local and without zone; whether dates are
//! day-first or month-first is read from the whole file (see `clock`).

use ilot_domain::{
    Carbs, EntryKind, Glucose, GlucoseLevel, GlucoseReading, GlucoseUnit, InsulinDelivery,
    InsulinDose, InsulinKind, KetoneSource, Ketones, MealContext, Note, ReadingType,
};

use crate::clock::{self, Stamp, When};
use crate::fields::{Columns, Draft, Gathered, Origins, field, number, reader, unit_in};
use crate::why::Why;
use crate::{Format, Import, Options, Result, err, scan_type};

struct Cols {
    device: Option<usize>,
    serial: Option<usize>,
    time: usize,
    record: usize,
    historic: Option<usize>,
    scan: Option<usize>,
    strip: Option<usize>,
    ketone: Option<usize>,
    rapid: Option<usize>,
    rapid_text: Option<usize>,
    long: Option<usize>,
    long_text: Option<usize>,
    meal_insulin: Option<usize>,
    correction_insulin: Option<usize>,
    /// The insulin calculator's suggestion as changed by the patient (Libre reader).
    user_change: Option<usize>,
    carbs: Option<usize>,
    servings: Option<usize>,
    food_text: Option<usize>,
    notes: Option<usize>,
}

fn non_numeric(h: &str) -> bool {
    h.contains("non-numeric") || h.contains("non numérique") || h.contains("sans valeur numérique")
}

impl Cols {
    fn find(c: &Columns) -> Option<Cols> {
        let has = |h: &str, words: &[&str]| words.iter().any(|w| h.contains(w));
        Some(Cols {
            device: c.find(|h| h == "device" || h == "appareil"),
            serial: c.find(|h| has(h, &["serial", "série"])),
            time: c.find(|h| has(h, &["timestamp", "horodatage"]))?,
            record: c.find(|h| has(h, &["record type", "type d'enregistrement"]))?,
            historic: c.find(|h| has(h, &["historic", "historique"])),
            scan: c.find(|h| has(h, &["scan", "numérisation"]) && unit_in(h).is_some()),
            strip: c.find(|h| has(h, &["strip", "bandelette"])),
            ketone: c.find(|h| has(h, &["ketone", "cétone"])),
            rapid: c.find(|h| has(h, &["rapid", "rapide"]) && !non_numeric(h)),
            rapid_text: c.find(|h| has(h, &["rapid", "rapide"]) && non_numeric(h)),
            long: c.find(|h| {
                has(
                    h,
                    &[
                        "long-acting",
                        "long acting",
                        "action lente",
                        "action longue",
                    ],
                ) && !non_numeric(h)
            }),
            long_text: c.find(|h| {
                has(
                    h,
                    &[
                        "long-acting",
                        "long acting",
                        "action lente",
                        "action longue",
                    ],
                ) && non_numeric(h)
            }),
            meal_insulin: c.find(|h| {
                has(
                    h,
                    &["meal insulin", "insuline repas", "insuline pour le repas"],
                )
            }),
            correction_insulin: c.find(|h| {
                has(
                    h,
                    &[
                        "correction insulin",
                        "correction insuline",
                        "insuline de correction",
                    ],
                )
            }),
            user_change: c.find(|h| {
                has(
                    h,
                    &[
                        "user change insulin",
                        "modifiée par l'utilisateur",
                        "modifiée par l’utilisateur",
                    ],
                )
            }),
            carbs: c.find(|h| has(h, &["carbohydrates (grams)", "glucides (grammes)"])),
            servings: c.find(|h| has(h, &["servings", "portions"])),
            food_text: c.find(|h| {
                has(h, &["food", "aliments", "alimentation", "nourriture"]) && non_numeric(h)
            }),
            notes: c.find(|h| h == "notes" || h == "remarques" || h == "commentaires"),
        })
    }
}

/// LibreView writes commas; a file opened and saved again by a spreadsheet set to French has
/// semicolons (and its decimals as bare commas), saved as "Unicode text" tabs. Read from the
/// header line: the separator it holds most of.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().take(4).find(|l| {
        let l = l.to_lowercase();
        l.contains("record type") || l.contains("type d'enregistrement")
    });
    header.map_or(b',', crate::fields::separator)
}

pub(crate) fn parse(text: &str, opts: &Options) -> Result<Import> {
    let lines = crate::fields::Lines::new(text);
    let mut g = Gathered::new(Format::LibreView);
    let mut origins = Origins::default();
    let mut rdr = reader(text, delimiter(text));
    // One record reused for every row: a year of CGM is 100,000 rows.
    let mut r = csv::StringRecord::new();
    let mut header: Option<(Cols, GlucoseUnit, Columns)> = None;
    let mut created: Option<Stamp> = None;
    let mut before_header = 0;
    loop {
        match rdr.read_record(&mut r) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                g.reject(lines.at(e.position()), Why::csv_row(&e));
                continue;
            }
        }
        let line = lines.of(&r);
        let Some((cols, glucose_unit, columns)) = &header else {
            let is_header = r.iter().any(|f| {
                let f = f.to_lowercase();
                f.contains("record type") || f.contains("type d'enregistrement")
            });
            if is_header {
                let columns = Columns::new(r.iter());
                let Some(cols) = Cols::find(&columns) else {
                    return err(
                        "LibreView header without a device timestamp or record type column",
                    );
                };
                let unit_of = |i: Option<usize>| i.and_then(|i| unit_in(columns.name(i)));
                let unit = unit_of(cols.historic)
                    .or(unit_of(cols.scan))
                    .or(unit_of(cols.strip))
                    .unwrap_or(GlucoseUnit::MgPerDl);
                header = Some((cols, unit, columns));
            } else {
                // The preamble's creation date is written like the rows' dates.
                created = created.or_else(|| r.iter().find_map(Stamp::split));
                before_header += 1;
                if before_header > 3 {
                    return err("LibreView export without its header line (Record Type)");
                }
            }
            continue;
        };
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if g.device.is_none() {
            g.device = field(&r, cols.device).map(str::to_string);
            g.serial = field(&r, cols.serial).map(str::to_string);
        }
        let time = field(&r, Some(cols.time)).unwrap_or("");
        let Some(stamp) = Stamp::split(time) else {
            g.reject(line, Why::time(time, ""));
            continue;
        };
        let record_type = field(&r, Some(cols.record)).unwrap_or("");
        let made = match record_type {
            "0" => glucose(
                &r,
                cols.historic,
                *glucose_unit,
                ReadingType::Interstitial,
                "historic",
            ),
            "1" => glucose(&r, cols.scan, *glucose_unit, scan_type(), "scan"),
            "2" => glucose(
                &r,
                cols.strip,
                *glucose_unit,
                ReadingType::Capillary,
                "strip",
            ),
            "3" => ketone(&r, cols.ketone),
            "4" => insulin(&r, cols),
            "5" => food(&r, cols, columns),
            "6" => note(&r, cols.notes),
            other => Err(Why::new(
                "record-type-unknown",
                serde_json::json!({ "value": other }),
                format!("unknown record type {other:?}"),
            )),
        };
        match made {
            Ok(kinds) if kinds.is_empty() => {
                g.skip(&format!("record type {record_type} without a value"))
            }
            Ok(kinds) => {
                let serial = field(&r, cols.serial).unwrap_or("");
                for (record, kind) in kinds {
                    match origins.get("libreview", serial, record) {
                        Ok(origin) => g.drafts.push(Draft {
                            line,
                            record,
                            origin,
                            when: When::Unordered(stamp),
                            kind,
                        }),
                        Err(e) => g.reject(line, e),
                    }
                }
            }
            Err(reason) => g.reject(line, reason),
        }
    }
    if header.is_none() {
        return err("LibreView export without its header line (Record Type)");
    }
    let order = clock::infer_order(g.unordered(), created, opts.date_order)?;
    g.apply_order(order);
    Ok(g.finish(opts))
}

type Kinds = std::result::Result<Vec<(&'static str, EntryKind)>, Why>;

fn glucose(
    r: &csv::StringRecord,
    col: Option<usize>,
    unit: GlucoseUnit,
    reading_type: ReadingType,
    record: &'static str,
) -> Kinds {
    let Some(value) = field(r, col) else {
        return Err(Why::no_value(
            "glucose",
            format!("{record} reading without a glucose value"),
        ));
    };
    let level = GlucoseLevel::parse(value, unit).map_err(Why::from)?;
    let reading = match level {
        GlucoseLevel::Value(g) if reading_type == scan_type() => scan(g),
        level => GlucoseReading::new(level, reading_type, MealContext::Other),
    };
    Ok(vec![(record, EntryKind::Glucose(reading))])
}

fn scan(g: Glucose) -> GlucoseReading {
    GlucoseReading::scan(g)
}

fn ketone(r: &csv::StringRecord, col: Option<usize>) -> Kinds {
    let Some(value) = field(r, col) else {
        return Err(Why::no_value("ketones", "ketone record without a value"));
    };
    let k = Ketones::new(number("ketones", value)?, KetoneSource::Blood).map_err(Why::from)?;
    Ok(vec![("ketone", EntryKind::Ketones(k))])
}

fn dose(value: &str, kind: InsulinKind) -> std::result::Result<EntryKind, Why> {
    InsulinDose::parse(value, kind, InsulinDelivery::Pen)
        .map(EntryKind::Insulin)
        .map_err(Why::from)
}

fn insulin(r: &csv::StringRecord, c: &Cols) -> Kinds {
    let mut out = Vec::new();
    if let Some(v) = field(r, c.rapid) {
        out.push(("rapid-insulin", dose(v, InsulinKind::Bolus)?));
    } else if let Some(v) = field(r, c.user_change) {
        // The reader's calculator suggested meal + correction and the patient changed it: the
        // parts no longer say what was injected, and the total is not in the row.
        return Err(Why::new(
            "calculator-changed",
            serde_json::json!({ "units": v }),
            format!(
                "the insulin calculator's suggestion was changed by the patient ({v} units in \
                 \"User Change Insulin\") and the dose taken (rapid-acting insulin) is not in \
                 the row: nothing stored, enter the dose by hand"
            ),
        ));
    } else {
        // The meal and correction parts, when the total is not given.
        if let Some(v) = field(r, c.meal_insulin) {
            out.push(("meal-insulin", dose(v, InsulinKind::Bolus)?));
        }
        if let Some(v) = field(r, c.correction_insulin) {
            out.push(("correction-insulin", dose(v, InsulinKind::Correction)?));
        }
    }
    if let Some(v) = field(r, c.long) {
        out.push(("long-insulin", dose(v, InsulinKind::Basal)?));
    }
    if out.is_empty() {
        for (col, what) in [
            (c.rapid_text, "Rapid-acting insulin"),
            (c.long_text, "Long-acting insulin"),
        ] {
            if let Some(v) = field(r, col) {
                out.push(("insulin-note", note_kind(&marker(what, v))?));
            }
        }
    }
    Ok(out)
}

/// A non-numeric marker (`1` when ticked) kept as a note naming it.
fn marker(what: &str, value: &str) -> String {
    if value == "1" {
        format!("{what} (no amount)")
    } else {
        format!("{what}: {value}")
    }
}

fn food(r: &csv::StringRecord, c: &Cols, columns: &Columns) -> Kinds {
    if let Some(v) = field(r, c.carbs) {
        let carbs = Carbs::new(number("carbohydrates", v)?, None).map_err(Why::from)?;
        return Ok(vec![("carbs", EntryKind::Carbs(carbs))]);
    }
    if let Some(v) = field(r, c.servings) {
        let name = c.servings.map_or("", |i| columns.name(i));
        return Err(Why::new(
            "servings",
            serde_json::json!({ "value": v }),
            format!("carbohydrates in servings ({v} in {name:?}) cannot be converted to grams"),
        ));
    }
    match field(r, c.food_text) {
        Some(v) => Ok(vec![("food-note", note_kind(&marker("Food", v))?)]),
        None => Ok(Vec::new()),
    }
}

fn note_kind(text: &str) -> std::result::Result<EntryKind, Why> {
    Note::new(text.trim())
        .map(EntryKind::Note)
        .map_err(Why::from)
}

fn note(r: &csv::StringRecord, col: Option<usize>) -> Kinds {
    match field(r, col) {
        Some(text) => Ok(vec![("note", note_kind(text)?)]),
        None => Ok(Vec::new()),
    }
}
