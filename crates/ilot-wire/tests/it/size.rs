//! The size target: ≤ 16 bytes per CGM reading on the wire, framing and encryption
//! included, for a 5,000-reading batch of a 5-minute CGM (the bench reports the full backlog).

use chrono::{DateTime, FixedOffset, TimeDelta};
use ilot_domain::{
    DeviceId as SourceDevice, Entry, EntryKind, Glucose, GlucoseReading, GlucoseUnit, Source,
    SourceKind,
};
use ilot_wire::{BatchHeader, DeviceId, OpenBatch, PatientId, WireEntry, WireOp, seal};
use rand::Rng;

use crate::{rng, session};

fn cgm_batch(n: usize, unit: GlucoseUnit) -> OpenBatch {
    let mut r = rng(21);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+01:00").unwrap();
    let device = SourceDevice::new("dexcom:g7:8RJ4K2").unwrap();
    let mut mg = 120.0f64;
    let items = (0..n)
        .map(|i| {
            mg = (mg + r.random_range(-6.0..=6.0)).clamp(40.0, 400.0);
            let g = match unit {
                GlucoseUnit::MmolPerLitre => {
                    Glucose::new((mg / 18.016 * 10.0).round() / 10.0, unit)
                }
                _ => Glucose::new(mg.round(), GlucoseUnit::MgPerDl),
            }
            .unwrap();
            let at: DateTime<FixedOffset> =
                start + TimeDelta::seconds(300 * i as i64 + r.random_range(-2..=2));
            WireEntry {
                id: 1000 + i as i64,
                version: 1,
                op: WireOp::Insert,
                recorded_at: at.to_utc() + TimeDelta::seconds(r.random_range(2..30)),
                entry: Entry {
                    at,
                    source: Source::device(SourceKind::Cgm, device.clone(), i as u32),
                    kind: EntryKind::Glucose(GlucoseReading::cgm(g)),
                },
                reason: None,
            }
        })
        .collect();
    let (p, d) = (
        PatientId::from_bytes([1; 16]),
        DeviceId::from_bytes([2; 16]),
    );
    OpenBatch::new(BatchHeader::new(p, d, 1, start.to_utc()), items)
}

#[test]
fn a_cgm_batch_takes_at_most_16_bytes_a_reading() {
    let keys = session(
        3,
        PatientId::from_bytes([1; 16]),
        DeviceId::from_bytes([2; 16]),
    );
    for unit in [GlucoseUnit::MgPerDl, GlucoseUnit::MmolPerLitre] {
        let b = cgm_batch(5000, unit);
        let sealed = seal(&b, &keys.to_server, &mut rng(4)).unwrap();
        let per_reading = sealed.len() as f64 / 5000.0;
        assert!(
            per_reading <= 16.0,
            "{unit}: {per_reading:.2} bytes a reading"
        );
    }
}
