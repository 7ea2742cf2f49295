//! Arbitrary but valid batches: every entry kind, every unit, short decimals and arbitrary
//! floats, times to the nanosecond with any UTC offset, and CGM runs that exercise the deltas.

use chrono::{DateTime, FixedOffset, Utc};
use ilot_domain::{
    Activity, ActivityIntensity, Carbs, DeviceId as SourceDevice, EducationSession, Entry,
    EntryKind, Glucose, GlucoseLevel, GlucoseReading, GlucoseUnit, HbA1c, HypoEvent,
    InsulinDelivery, InsulinDose, InsulinKind, KetoneSource, Ketones, MealContext, Note,
    ReadingType, Source, SourceKind, Weight,
};
use ilot_wire::{BatchHeader, ConsentChange, DeviceId, OpenBatch, PatientId, WireEntry, WireOp};
use proptest::prelude::*;

pub fn utc() -> impl Strategy<Value = DateTime<Utc>> {
    // 1970 to 2100, any nanosecond.
    (0i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
}

fn local() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (utc(), -86_399i32..=86_399)
        .prop_map(|(t, off)| t.with_timezone(&FixedOffset::east_opt(off).unwrap()))
}

fn text() -> impl Strategy<Value = String> {
    // A note, a label or a symptom is never blank: the domain refuses one
    // (the class below can draw only spaces, so the filter covers both arms).
    prop_oneof!["[a-zA-Z0-9 éèàç,.'-]{1,40}", any::<String>()]
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn unit() -> impl Strategy<Value = GlucoseUnit> {
    prop::sample::select(GlucoseUnit::ALL.to_vec())
}

pub fn glucose() -> impl Strategy<Value = Glucose> {
    prop_oneof![
        // As meters send them: integer mg/dL, one-decimal mmol/L, two-decimal g/L.
        (10i32..=600).prop_map(|v| Glucose::new(f64::from(v), GlucoseUnit::MgPerDl).unwrap()),
        (6i32..=333)
            .prop_map(|v| Glucose::new(f64::from(v) / 10.0, GlucoseUnit::MmolPerLitre).unwrap()),
        (10i32..=600)
            .prop_map(|v| Glucose::new(f64::from(v) / 100.0, GlucoseUnit::GramsPerLitre).unwrap()),
        // Anything else the domain accepts (conversions, odd devices): travels raw.
        (unit(), 0.1f64..600.0).prop_filter_map("plausible", |(u, v)| Glucose::new(v, u).ok()),
    ]
}

fn level() -> impl Strategy<Value = GlucoseLevel> {
    prop_oneof![
        8 => glucose().prop_map(GlucoseLevel::Value),
        1 => Just(GlucoseLevel::Lo),
        1 => Just(GlucoseLevel::Hi),
    ]
}

fn kind() -> impl Strategy<Value = EntryKind> {
    prop_oneof![
        4 => (level(), prop::sample::select(ReadingType::ALL.to_vec()), prop::sample::select(MealContext::ALL.to_vec()))
            .prop_map(|(l, r, c)| EntryKind::Glucose(GlucoseReading::new(l, r, c))),
        1 => (1u32..=3000, prop::sample::select(InsulinKind::ALL.to_vec()), prop::sample::select(InsulinDelivery::ALL.to_vec()), opt_text())
            .prop_filter_map("valid dose", |(k, kind, d, name)| {
                let step = if d == InsulinDelivery::Pump { 20.0 } else { 10.0 };
                let mut dose = InsulinDose::new(f64::from(k) / step, kind, d).ok()?;
                dose.insulin_name = name;
                Some(EntryKind::Insulin(dose))
            }),
        1 => (prop_oneof![(1u32..=2000).prop_map(|g| f64::from(g) / 2.0), 0.5f64..1000.0], opt_text())
            .prop_map(|(g, l)| EntryKind::Carbs(Carbs::new(g, l).unwrap())),
        1 => (proptest::collection::vec(text(), 0..4), opt_text(), any::<bool>(), proptest::option::of(glucose()))
            .prop_map(|(symptoms, treatment, needed_help, glucose)| EntryKind::Hypo(HypoEvent { symptoms, treatment, needed_help, glucose })),
        1 => (0.0f64..=4.0, prop::sample::select(KetoneSource::ALL.to_vec()))
            .prop_map(|(v, s)| EntryKind::Ketones(Ketones::new(v, s).unwrap())),
        1 => (20.0f64..=350.0).prop_map(|kg| EntryKind::Weight(Weight::new(kg).unwrap())),
        1 => (30u32..=200).prop_map(|p| EntryKind::Hba1c(HbA1c::new(f64::from(p) / 10.0).unwrap())),
        1 => (1u32..=1440, prop::sample::select(ActivityIntensity::ALL.to_vec()), opt_text())
            .prop_map(|(m, i, d)| EntryKind::Activity(Activity::new(m, i, d).unwrap())),
        1 => text().prop_map(|t| EntryKind::Note(Note::new(t).unwrap())),
        1 => (proptest::collection::vec("[a-z]{1,12}( [a-z]{1,12})?", 1..4), opt_text(), opt_text(), opt_text(), opt_text(), any::<bool>())
            .prop_map(|(topics, u, n, g, e, remote)| {
                let mut s = EducationSession::new(topics).unwrap();
                (s.understanding, s.notes, s.next_goals, s.educator, s.remote) = (u, n, g, e, remote);
                EntryKind::Education(s)
            }),
    ]
}

fn source() -> impl Strategy<Value = Source> {
    let device = prop_oneof![
        Just("dexcom:g7:SN123".to_string()),
        Just("csv:libreview".to_string()),
        "[a-z]{1,8}:[A-Z0-9]{1,10}",
    ];
    (
        prop::sample::select(vec![
            SourceKind::Manual,
            SourceKind::Meter,
            SourceKind::Cgm,
            SourceKind::Import,
        ]),
        proptest::option::of(device),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(kind, device, record_number)| Source {
            kind,
            device: device.map(|d| SourceDevice::new(d).unwrap()),
            record_number,
        })
}

pub fn op() -> impl Strategy<Value = WireOp> {
    prop::sample::select(vec![WireOp::Insert, WireOp::Update, WireOp::Delete])
}

pub fn wire_entry() -> impl Strategy<Value = WireEntry> {
    (
        any::<i64>(),
        any::<u32>(),
        op(),
        utc(),
        local(),
        source(),
        kind(),
        opt_text(),
    )
        .prop_map(
            |(id, version, op, recorded_at, at, source, kind, reason)| WireEntry {
                id,
                version,
                op,
                recorded_at,
                entry: Entry { at, source, kind },
                reason,
            },
        )
}

/// A CGM run as a device sends it: consecutive ids and record numbers, ~5 minutes apart.
fn cgm_run() -> impl Strategy<Value = Vec<WireEntry>> {
    (
        any::<i32>(),
        utc(),
        proptest::collection::vec((290i64..310, glucose()), 1..50),
    )
        .prop_map(|(first, start, steps)| {
            let device = SourceDevice::new("dexcom:g7:SN123").unwrap();
            let offset = FixedOffset::east_opt(3600).unwrap();
            let mut at = start;
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (step, g))| {
                    at += chrono::TimeDelta::seconds(step);
                    WireEntry {
                        id: i64::from(first) + i as i64,
                        version: 1,
                        op: WireOp::Insert,
                        recorded_at: at + chrono::TimeDelta::seconds(4),
                        entry: Entry {
                            at: at.with_timezone(&offset),
                            source: Source::device(SourceKind::Cgm, device.clone(), i as u32 + 7),
                            kind: EntryKind::Glucose(GlucoseReading::cgm(g)),
                        },
                        reason: None,
                    }
                })
                .collect()
        })
}

pub fn items() -> impl Strategy<Value = Vec<WireEntry>> {
    prop_oneof![
        proptest::collection::vec(wire_entry(), 0..30),
        (
            cgm_run(),
            proptest::collection::vec(wire_entry(), 0..5),
            cgm_run()
        )
            .prop_map(|(mut a, b, c)| {
                a.extend(b);
                a.extend(c);
                a
            }),
    ]
}

pub fn header() -> impl Strategy<Value = BatchHeader> {
    (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<u64>(), utc()).prop_map(|(p, d, seq, at)| {
        BatchHeader::new(PatientId::from_bytes(p), DeviceId::from_bytes(d), seq, at)
    })
}

pub fn batch() -> impl Strategy<Value = OpenBatch> {
    let consent = proptest::option::of((any::<bool>(), utc(), any::<u32>()).prop_map(
        |(granted, at, notice_version)| ConsentChange {
            granted,
            at,
            notice_version,
        },
    ));
    (header(), items(), consent).prop_map(|(header, items, consent)| OpenBatch {
        header,
        items,
        consent,
    })
}
