//! Medtronic CareLink exports: `;`-separated, a preamble (patient, period, device), then per
//! device section a marker `-------;<model>;<Pump|Sensor>;<serial>;-------` and the header
//! repeated (`Index;Date;Time;…`), newest first. Separate `Date` (`YYYY/MM/DD`, or a day/month
//! order read from the file) and `Time` columns; decimal commas. Read: `Sensor Glucose`
//! (interstitial), `BG Reading` (capillary), `Bolus Volume Delivered (U)` (pump bolus),
//! `BWZ Carb Input (grams)`, `Basal Rate (U/h)` (a note: a rate is not a dose) and the event
//! markers (`Meal: 60,00grams` → carbs; other markers, `Insulin: 27,00` included, whose kind
//! the file does not say, → notes as written). Alarms and rows without data are skipped.

use ilot_domain::{
    Carbs, EntryKind, GlucoseLevel, GlucoseReading, GlucoseUnit, InsulinDelivery, InsulinDose,
    InsulinKind, MealContext, Note, ReadingType,
};

use crate::clock::{self, Stamp, When};
use crate::fields::{Columns, Draft, Gathered, Origins, field, number, reader, unit_in};
use crate::why::{Made, Why};
use crate::{Format, Import, Options, Result, err};

struct Cols {
    date: usize,
    time: usize,
    bg: Option<usize>,
    sensor: Option<usize>,
    bolus: Option<usize>,
    basal: Option<usize>,
    carbs: Option<usize>,
    marker: Option<usize>,
    bg_unit: GlucoseUnit,
    sensor_unit: GlucoseUnit,
}

impl Cols {
    fn find(c: &Columns) -> Option<Cols> {
        let bg = c.find(|h| h.starts_with("bg reading"));
        let sensor = c.find(|h| h.starts_with("sensor glucose"));
        let unit = |i: Option<usize>| {
            i.and_then(|i| unit_in(c.name(i)))
                .unwrap_or(GlucoseUnit::MgPerDl)
        };
        Some(Cols {
            date: c.find(|h| h == "date")?,
            time: c.find(|h| h == "time")?,
            bg,
            sensor,
            bolus: c.find(|h| h.starts_with("bolus volume delivered")),
            basal: c.find(|h| h.starts_with("basal rate")),
            carbs: c.find(|h| h.starts_with("bwz carb input")),
            marker: c.find(|h| h == "event marker"),
            bg_unit: unit(bg),
            sensor_unit: unit(sensor),
        })
    }
}

pub(crate) fn parse(text: &str, opts: &Options) -> Result<Import> {
    let lines = crate::fields::Lines::new(text);
    let mut g = Gathered::new(Format::CareLink);
    let mut records = Vec::new();
    // Semicolons in Europe, commas in the US: read from the header line.
    let sep = text
        .lines()
        .find(|l| l.trim_start().to_lowercase().starts_with("index"))
        .map_or(b';', crate::fields::separator);
    for r in reader(text, sep).records() {
        match r {
            Ok(r) => records.push(r),
            Err(e) => g.reject(lines.at(e.position()), Why::csv_row(&e)),
        }
    }
    let mut origins = Origins::default();
    let mut cols: Option<Cols> = None;
    let mut serial = String::new();
    let mut headers = 0;
    for r in &records {
        let line = lines.of(r);
        let first = r.get(0).unwrap_or("").trim();
        if first.starts_with("-------") {
            // -------;<model>;<Pump|Sensor>;<serial>;-------
            g.device = g.device.take().or(field(r, Some(1)).map(str::to_string));
            serial = field(r, Some(3)).unwrap_or("").to_string();
            g.serial = g
                .serial
                .take()
                .or(Some(serial.clone()).filter(|s| !s.is_empty()));
            cols = None;
            continue;
        }
        if first == "Index" {
            cols = Cols::find(&Columns::new(r.iter()));
            if cols.is_none() {
                return err(format!(
                    "line {line}: CareLink header without Date and Time"
                ));
            }
            headers += 1;
            continue;
        }
        let Some(c) = &cols else {
            continue; // the preamble
        };
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let date = field(r, Some(c.date)).unwrap_or("");
        let time = field(r, Some(c.time)).unwrap_or("");
        let Some(stamp) = Stamp::split(&format!("{date} {time}")) else {
            g.reject(line, Why::time(&format!("{date} {time}"), ""));
            continue;
        };
        let when = When::Unordered(stamp);
        let mut made: Vec<(&'static str, EntryKind)> = Vec::new();
        let mut problems = Vec::new();
        let mut attempt = |r: Made<(&'static str, EntryKind)>| match r {
            Ok(k) => made.push(k),
            Err(e) => problems.push(e),
        };
        if let Some(v) = field(r, c.sensor) {
            attempt(glucose(v, c.sensor_unit, ReadingType::Interstitial).map(|k| ("sensor", k)));
        }
        if let Some(v) = field(r, c.bg) {
            attempt(glucose(v, c.bg_unit, ReadingType::Capillary).map(|k| ("bg", k)));
        }
        if let Some(v) = field(r, c.bolus) {
            attempt(
                number("insulin dose", v)
                    .and_then(|u| {
                        InsulinDose::new(u, InsulinKind::Bolus, InsulinDelivery::Pump)
                            .map_err(Why::from)
                    })
                    .map(|d| ("bolus", EntryKind::Insulin(d))),
            );
        }
        if let Some(v) = field(r, c.carbs) {
            match number("carbohydrates", v) {
                Ok(0.0) => {}
                n => attempt(
                    n.and_then(|n| Carbs::new(n, None).map_err(Why::from))
                        .map(|c| ("bwz-carbs", EntryKind::Carbs(c))),
                ),
            }
        }
        if let Some(v) = field(r, c.basal) {
            attempt(note(&format!("Basal Rate (U/h): {v}")).map(|k| ("basal-rate", k)));
        }
        if let Some(v) = field(r, c.marker) {
            attempt(marker(v));
        }
        if let Some(first_problem) = problems.into_iter().next() {
            g.reject(line, first_problem);
            continue;
        }
        if made.is_empty() {
            g.skip("no reading, dose, carbs or marker (alarms, device events)");
            continue;
        }
        for (record, kind) in made {
            match origins.get("carelink", &serial, record) {
                Ok(origin) => g.drafts.push(Draft {
                    line,
                    record,
                    origin,
                    when,
                    kind,
                }),
                Err(e) => g.reject(line, e),
            }
        }
    }
    if headers == 0 {
        return err("CareLink export without a header line (Index;Date;Time;…)");
    }
    let order = clock::infer_order(g.unordered(), None, opts.date_order)?;
    g.apply_order(order);
    Ok(g.finish(opts))
}

fn glucose(v: &str, unit: GlucoseUnit, t: ReadingType) -> Made<EntryKind> {
    let level = GlucoseLevel::parse(v, unit).map_err(Why::from)?;
    Ok(EntryKind::Glucose(GlucoseReading::new(
        level,
        t,
        MealContext::Other,
    )))
}

fn note(text: &str) -> Made<EntryKind> {
    Note::new(text.trim())
        .map(EntryKind::Note)
        .map_err(Why::from)
}

/// `Meal: 60,00grams` → carbs; any other marker → a note as written.
fn marker(v: &str) -> Made<(&'static str, EntryKind)> {
    if let Some(rest) = v.strip_prefix("Meal:") {
        let grams = rest.trim().trim_end_matches("grams").trim();
        let n = number("carbohydrates", grams)?;
        let c = Carbs::new(n, None).map_err(Why::from)?;
        return Ok(("meal-marker", EntryKind::Carbs(c)));
    }
    note(v).map(|k| ("marker", k))
}
