//! The store on real encrypted files, and key resolution through the public API.

mod files;
mod keys;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use ilot_domain::{DeviceId, Entry, EntryKind, Glucose, GlucoseReading, Source, SourceKind};

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// `n` one-minute CGM readings from one sensor, record numbers from 1.
pub fn cgm_series(n: u32) -> Vec<Entry> {
    let start: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2026-03-01T00:00:00+01:00").unwrap();
    let device = DeviceId::new("dexcom:g7:it").unwrap();
    (0..n)
        .map(|i| Entry {
            at: start + TimeDelta::minutes(i64::from(i)),
            source: Source::device(SourceKind::Cgm, device.clone(), i + 1),
            kind: EntryKind::Glucose(GlucoseReading::cgm(
                Glucose::from_mg_dl(100.0 + f64::from(i % 50)).unwrap(),
            )),
        })
        .collect()
}
