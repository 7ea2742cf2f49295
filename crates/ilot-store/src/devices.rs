//! Per-device download cursors for Bluetooth meters and CGMs, derived from the dedup keys: the
//! highest device record number stored for a device, whatever entry kind carries it (a reading,
//! its carbohydrates, or the note kept for a record that gave no reading) and whether or not the
//! person deleted it since — a deleted record must not come back with the next download.
//!
//! The entries of one (source, kind) are one id range whose low 40 bits are the record number
//! (`ids.rs`), so the highest record of each kind is the last rowid of its range: one B-tree
//! seek per entry kind, whatever the store holds (the app asks at every download and poll).

use ilot_domain::{DeviceId, SourceKind};
use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::codes;
use crate::error::Result;
use crate::ids::{self, KeyType};

impl Store {
    /// The highest record number stored for `device` as a `kind` source, `None` before its
    /// first download. An incremental download asks the device for the records after it.
    pub fn last_record_number(&self, kind: SourceKind, device: &DeviceId) -> Result<Option<u32>> {
        // The device's entries keyed by record number have one source (sources are unique by
        // kind, device and key type); entries of a device without record numbers have none.
        let source: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM sources WHERE kind = ?1 AND device = ?2 AND key = ?3")?
            .query_row(
                params![
                    codes::source_kind_code(kind),
                    device.as_str(),
                    KeyType::Record.code()
                ],
                |r| r.get(0),
            )
            .optional()?;
        let Some(source) = source else {
            return Ok(None);
        };
        let mut last = self
            .conn
            .prepare_cached("SELECT max(id) FROM entry_rows WHERE id BETWEEN ?1 AND ?2")?;
        let mut highest: Option<i64> = None;
        for kind in codes::kind_codes() {
            let (lo, hi) = ids::range(source, kind);
            let max: Option<i64> = last.query_row([lo, hi], |r| r.get(0))?;
            highest = highest.max(max.map(|id| id & ids::MAX_KEY));
        }
        // A record number is a u32 (CHECKed by the schema); anything else is not a cursor.
        Ok(highest.and_then(|m| u32::try_from(m).ok()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use ilot_domain::{Entry, EntryKind, Glucose, GlucoseReading, MealContext, Note, Source};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn entry(device: &DeviceId, kind: SourceKind, n: u32, what: EntryKind) -> Entry {
        Entry {
            at: DateTime::parse_from_rfc3339("2026-03-01T08:00:00+01:00").unwrap(),
            source: Source::device(kind, device.clone(), n),
            kind: what,
        }
    }

    #[test]
    fn cursor_is_the_highest_record_of_that_device_and_kind() {
        let mut s = Store::open_in_memory().unwrap();
        let now = at("2026-03-02T00:00:00Z");
        let a = DeviceId::new("roche:guide:1").unwrap();
        let b = DeviceId::new("roche:guide:2").unwrap();
        assert_eq!(s.last_record_number(SourceKind::Meter, &a).unwrap(), None);
        let g = |n| {
            EntryKind::Glucose(GlucoseReading::capillary(
                Glucose::from_mg_dl(100.0 + f64::from(n)).unwrap(),
                MealContext::Other,
            ))
        };
        let note = EntryKind::Note(Note::new("meter record 9: no glucose stored").unwrap());
        let batch = [
            entry(&a, SourceKind::Meter, 3, g(3)),
            entry(&a, SourceKind::Meter, 9, note),
            entry(&a, SourceKind::Meter, 7, g(7)),
            entry(&b, SourceKind::Meter, 40, g(40)),
            entry(&a, SourceKind::Cgm, 500, g(5)),
        ];
        s.add_batch(&batch, now).unwrap();
        assert_eq!(
            s.last_record_number(SourceKind::Meter, &a).unwrap(),
            Some(9)
        );
        assert_eq!(
            s.last_record_number(SourceKind::Meter, &b).unwrap(),
            Some(40)
        );
        assert_eq!(
            s.last_record_number(SourceKind::Cgm, &a).unwrap(),
            Some(500)
        );
        // Deleting the newest record keeps the cursor: it must not be downloaded again.
        let id = match s
            .add(&entry(&a, SourceKind::Meter, 12, g(12)), now)
            .unwrap()
        {
            crate::AddOutcome::Added(id) => id,
            other => panic!("{other:?}"),
        };
        s.delete(id, Some("test"), now).unwrap();
        assert_eq!(
            s.last_record_number(SourceKind::Meter, &a).unwrap(),
            Some(12)
        );
    }

    fn cgm(device: &DeviceId, from: u32, n: u32) -> Vec<Entry> {
        (from..from + n)
            .map(|i| Entry {
                at: DateTime::parse_from_rfc3339("2026-01-01T00:00:00+01:00").unwrap()
                    + chrono::TimeDelta::minutes(i64::from(i)),
                source: Source::device(SourceKind::Cgm, device.clone(), i),
                kind: EntryKind::Glucose(GlucoseReading::cgm(
                    Glucose::from_mg_dl(100.0 + f64::from(i % 80)).unwrap(),
                )),
            })
            .collect()
    }

    /// The app asks for the cursor twice per download and every 10 minutes in the background:
    /// it must cost a few B-tree seeks, not a pass over the store. Counted in SQLite
    /// instructions (the same on every run), on a store holding three records of the device and
    /// on one that also holds 20,000 more of its records and 20,000 of another sensor.
    #[test]
    fn the_cursor_does_not_read_the_whole_store() {
        let now = at("2026-03-02T00:00:00Z");
        let mine = DeviceId::new("dexcom:g7:mine").unwrap();
        let other = DeviceId::new("dexcom:g7:other").unwrap();
        let mut small = Store::open_in_memory().unwrap();
        small.add_batch(&cgm(&mine, 1, 3), now).unwrap();
        let mut big = Store::open_in_memory().unwrap();
        big.add_batch(&cgm(&other, 1, 20_000), now).unwrap();
        big.add_batch(&cgm(&mine, 1, 20_000), now).unwrap();
        big.add_batch(&cgm(&other, 20_001, 100), now).unwrap();
        let cursor = |s: &Store| s.last_record_number(SourceKind::Cgm, &mine).unwrap();
        let (c_small, steps_small) = small.count_vm_steps(cursor).unwrap();
        let (c_big, steps_big) = big.count_vm_steps(cursor).unwrap();
        assert_eq!((c_small, c_big), (Some(3), Some(20_000)));
        assert!(
            steps_big <= steps_small,
            "the cursor's cost grows with the store: {steps_small} SQLite steps with 3 entries, \
             {steps_big} with 40,103"
        );
    }
}
