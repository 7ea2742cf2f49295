//! What of an import is already stored under another source (read by Bluetooth, or from another
//! export of an overlapping period): the same kind of entry within the same minute with the
//! same content (from a source other than the row's own), a glucose compared at the precision the file writes it (half its last digit:
//! 0.05 mmol/L, 0.5 mg/dL, 0.005 g/L), because a file rounds what the device sent. Same-origin
//! rows need no such test: the store's dedup key (origin, kind, second) already finds them.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{Entry, EntryKind, GlucoseLevel, GlucoseUnit};

use crate::Row;

/// For each row, whether an entry of `stored` already holds it. `stored` in any order.
pub fn already_stored(rows: &[Row], stored: &[Entry]) -> Vec<bool> {
    let mut by_time: Vec<(DateTime<Utc>, &Entry)> =
        stored.iter().map(|e| (e.at_utc(), e)).collect();
    by_time.sort_by_key(|(at, _)| *at);
    let window = TimeDelta::seconds(59);
    rows.iter()
        .map(|row| {
            let at = row.entry.at_utc();
            let from = by_time.partition_point(|(t, _)| *t < at - window);
            by_time[from..]
                .iter()
                .take_while(|(t, _)| *t <= at + window)
                .any(|(_, e)| e.source != row.entry.source && same(&row.entry.kind, &e.kind))
        })
        .collect()
}

/// For each row, whether it is already stored at all — held by another source (as
/// [`already_stored`]) or imported before from the same origin (same instant, same content) —
/// or repeats an earlier row of the file: what a preview does not count as new.
pub fn held(rows: &[Row], stored: &[Entry]) -> Vec<bool> {
    let mut other = already_stored(rows, stored);
    let mut same_origin: Vec<(DateTime<Utc>, &Entry)> =
        stored.iter().map(|e| (e.at_utc(), e)).collect();
    same_origin.sort_by_key(|(at, _)| *at);
    for (row, held) in rows.iter().zip(other.iter_mut()) {
        let at = row.entry.at_utc();
        let from = same_origin.partition_point(|(t, _)| *t < at);
        *held |= same_origin[from..]
            .iter()
            .take_while(|(t, _)| *t == at)
            .any(|(_, e)| e.source == row.entry.source && e.kind == row.entry.kind);
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (rows[i].entry.at_utc(), i));
    for (k, &i) in order.iter().enumerate() {
        let at = rows[i].entry.at_utc();
        let repeats = order[..k]
            .iter()
            .rev()
            .take_while(|&&j| rows[j].entry.at_utc() == at)
            .any(|&j| rows[j].entry == rows[i].entry);
        other[i] |= repeats;
    }
    other
}

fn same(new: &EntryKind, old: &EntryKind) -> bool {
    match (new, old) {
        (EntryKind::Glucose(a), EntryKind::Glucose(b)) => {
            a.reading_type == b.reading_type
                && match (a.level, b.level) {
                    (GlucoseLevel::Value(x), GlucoseLevel::Value(y)) => {
                        let tolerance = match x.unit() {
                            GlucoseUnit::MmolPerLitre => 0.05,
                            GlucoseUnit::MgPerDl => 0.5,
                            GlucoseUnit::GramsPerLitre => 0.005,
                        };
                        (y.in_unit(x.unit()) - x.value()).abs() <= tolerance + 1e-9
                    }
                    (GlucoseLevel::Lo, GlucoseLevel::Lo) | (GlucoseLevel::Hi, GlucoseLevel::Hi) => {
                        true
                    }
                    _ => false,
                }
        }
        (EntryKind::Insulin(a), EntryKind::Insulin(b)) => {
            a.kind == b.kind && (a.units() - b.units()).abs() < 1e-9
        }
        (EntryKind::Carbs(a), EntryKind::Carbs(b)) => (a.grams() - b.grams()).abs() < 1e-9,
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use ilot_domain::{DeviceId, Glucose, GlucoseReading, Source, SourceKind};

    fn at(s: &str) -> DateTime<chrono::FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn cgm(t: &str, v: f64, unit: GlucoseUnit, source: Source) -> Entry {
        Entry {
            at: at(t),
            source,
            kind: EntryKind::Glucose(GlucoseReading::cgm(Glucose::new(v, unit).unwrap())),
        }
    }

    #[test]
    fn a_reading_read_by_bluetooth_is_found_at_the_files_precision() {
        let ble = Source::device(SourceKind::Cgm, DeviceId::new("cgm").unwrap(), 7);
        let file = Source::import(DeviceId::new("libreview:x:historic").unwrap());
        let stored = [cgm(
            "2026-01-01T08:00:41Z",
            101.0,
            GlucoseUnit::MgPerDl,
            ble,
        )];
        let rows: Vec<Row> = [
            ("2026-01-01T08:00:00Z", 5.6), // 100.9 mg/dL, same minute: already there
            ("2026-01-01T08:00:00Z", 5.8), // another value
            ("2026-01-01T08:15:00Z", 5.6), // another time
        ]
        .iter()
        .map(|(t, v)| Row {
            line: 1,
            record: "historic",
            entry: cgm(t, *v, GlucoseUnit::MmolPerLitre, file.clone()),
        })
        .collect();
        assert_eq!(already_stored(&rows, &stored), [true, false, false]);
    }
}
