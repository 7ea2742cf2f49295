//! Per-device download cursors for Bluetooth meters and CGMs, derived from the dedup keys: the
//! highest device record number stored for a device, whatever entry kind carries it (a reading,
//! its carbohydrates, or the note kept for a record that gave no reading) and whether or not the
//! person deleted it since — a deleted record must not come back with the next download.

use ilot_domain::{DeviceId, SourceKind};
use rusqlite::params;

use crate::Store;
use crate::codes;
use crate::error::Result;

impl Store {
    /// The highest record number stored for `device` as a `kind` source, `None` before its
    /// first download. An incremental download asks the device for the records after it.
    pub fn last_record_number(&self, kind: SourceKind, device: &DeviceId) -> Result<Option<u32>> {
        let max: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT max(e.record_no) FROM entries e JOIN sources s ON s.id = e.source_id
                 WHERE s.kind = ?1 AND s.device = ?2 AND e.dedup_no IS NOT NULL",
            )?
            .query_row(
                params![codes::source_kind_code(kind), device.as_str()],
                |r| r.get(0),
            )?;
        // record_no is CHECKed to 0..=u32::MAX by the schema.
        Ok(max.and_then(|m| u32::try_from(m).ok()))
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
}
