//! Adding, deduplicating, correcting and deleting entries.

use ilot_domain::{
    Activity, ActivityIntensity, Carbs, EducationSession, Entry, EntryKind, Glucose, GlucoseLevel,
    GlucoseReading, GlucoseUnit, HbA1c, HypoEvent, InsulinDelivery, InsulinDose, InsulinKind,
    KetoneSource, Ketones, MealContext, Note, ReadingType, Source, SourceKind, Weight,
};

use super::*;
use crate::{AddOutcome, StoreError, codes};

fn every_kind() -> Vec<EntryKind> {
    let mut insulin = InsulinDose::new(6.5, InsulinKind::Basal, InsulinDelivery::Pen).unwrap();
    insulin.insulin_name = Some("Toujeo".into());
    vec![
        EntryKind::Glucose(GlucoseReading::capillary(
            Glucose::new(1.26, GlucoseUnit::GramsPerLitre).unwrap(),
            MealContext::AfterMeal2h,
        )),
        EntryKind::Glucose(GlucoseReading::new(
            GlucoseLevel::Lo,
            ReadingType::Capillary,
            MealContext::Night,
        )),
        EntryKind::Glucose(GlucoseReading::new(
            GlucoseLevel::Hi,
            ReadingType::Lab,
            MealContext::Other,
        )),
        EntryKind::Glucose(GlucoseReading::cgm(
            Glucose::new(7.04, GlucoseUnit::MmolPerLitre).unwrap(),
        )),
        EntryKind::Glucose(GlucoseReading::scan(
            Glucose::new(0.61, GlucoseUnit::GramsPerLitre).unwrap(),
        )),
        EntryKind::Glucose(GlucoseReading::new(
            GlucoseLevel::Lo,
            ReadingType::Scan,
            MealContext::Fasting,
        )),
        EntryKind::Insulin(insulin),
        EntryKind::Carbs(Carbs::new(45.5, Some("déjeuner".into())).unwrap()),
        EntryKind::Hypo(HypoEvent {
            symptoms: vec!["sweating".into(), "shaking".into()],
            treatment: Some("3 sugar cubes".into()),
            needed_help: true,
            glucose: Some(Glucose::new(0.52, GlucoseUnit::GramsPerLitre).unwrap()),
        }),
        EntryKind::Ketones(Ketones::new(0.6, KetoneSource::Blood).unwrap()),
        EntryKind::Weight(Weight::new(72.4).unwrap()),
        EntryKind::Hba1c(HbA1c::new(7.1).unwrap()),
        EntryKind::Activity(
            Activity::new(30, ActivityIntensity::Moderate, Some("walk".into())).unwrap(),
        ),
        EntryKind::Note(Note::new("felt dizzy after the run").unwrap()),
        EntryKind::Education({
            let mut s = EducationSession::new(vec!["hypo".into(), "meter".into()]).unwrap();
            s.understanding = Some("good".into());
            s.next_goals = Some("4 checks a day".into());
            s
        }),
    ]
}

#[test]
fn every_kind_round_trips_with_its_source_and_offset() {
    let mut s = store();
    for (i, kind) in every_kind().into_iter().enumerate() {
        let sources = [
            Source::manual(),
            Source::device(SourceKind::Meter, dev("roche:guide:123"), 7 + i as u32),
            Source::import(dev("csv:libreview")),
        ];
        let entry = Entry {
            at: t(&format!("2026-03-01T08:{i:02}:30.250+01:00")),
            source: sources[i % 3].clone(),
            kind,
        };
        let AddOutcome::Added(id) = s.add(&entry, now()).unwrap() else {
            panic!("not added: {entry:?}");
        };
        let back = s.get(id).unwrap().unwrap();
        assert_eq!(back.entry, entry);
        assert_eq!(back.entry.at.offset(), entry.at.offset());
        assert_eq!((back.version, back.deleted, back.reason), (1, false, None));
        assert_eq!(back.recorded_at, now());
        let by_name = codes::kind_code_by_name(entry.kind.name()).unwrap();
        assert_eq!(
            by_name,
            codes::kind_code(&entry.kind),
            "{}",
            entry.kind.name()
        );
    }
    assert_eq!(s.count_entries().unwrap(), every_kind().len() as u64);
    // Glucose needs no JSON; every other kind has it.
    assert_eq!(
        rows(&s, "SELECT count(*) FROM entries WHERE detail IS NULL"),
        6
    );
}

#[test]
fn times_are_kept_to_the_millisecond() {
    let mut s = store();
    let e = Entry {
        at: t("2026-03-01T08:00:00.123456789+01:00"),
        ..cgm("2026-03-01T08:00:00Z", 100.0, 1)
    };
    let AddOutcome::Added(id) = s.add(&e, now()).unwrap() else {
        panic!()
    };
    assert_eq!(
        s.get(id).unwrap().unwrap().entry.at,
        t("2026-03-01T08:00:00.123+01:00")
    );
    // The same record again, nanoseconds included, is still the same record.
    assert_eq!(s.add(&e, now()).unwrap(), AddOutcome::Duplicate(id));
}

#[test]
fn the_same_device_record_twice_is_a_duplicate() {
    let mut s = store();
    let e = cgm("2026-03-01T08:00:00Z", 112.0, 41);
    let first = s.add(&e, now()).unwrap();
    let AddOutcome::Added(id) = first else {
        panic!()
    };
    assert_eq!(s.add(&e, later(1)).unwrap(), AddOutcome::Duplicate(id));
    let report = s.add_batch(&[e.clone(), e], later(2)).unwrap();
    assert_eq!((report.added, report.duplicates), (0, 2));
    assert_eq!(report.ids, vec![Some(id), Some(id)]);
    assert_eq!(s.count_entries().unwrap(), 1);
    assert_eq!(s.outbox_len().unwrap(), 1);
}

#[test]
fn same_import_origin_and_time_with_another_value_is_a_conflict() {
    let mut s = store();
    let origin = Source::import(dev("csv:libreview:anne"));
    let a = glucose(
        "2026-03-01T08:00:00+01:00",
        1.26,
        GlucoseUnit::GramsPerLitre,
        origin.clone(),
    );
    let b = glucose(
        "2026-03-01T08:00:00+01:00",
        1.62,
        GlucoseUnit::GramsPerLitre,
        origin,
    );
    let AddOutcome::Added(id) = s.add(&a, now()).unwrap() else {
        panic!()
    };
    assert_eq!(
        s.add(&b, now()).unwrap(),
        AddOutcome::Conflict { existing: id }
    );
    let report = s.add_batch(&[a.clone(), b], now()).unwrap();
    assert_eq!(report.conflicts, vec![(1, id)]);
    assert_eq!(report.ids, vec![Some(id), None]);
    assert_eq!(s.get(id).unwrap().unwrap().entry, a);
    assert_eq!(s.count_entries().unwrap(), 1);
    assert_eq!(rows(&s, "SELECT count(*) FROM entry_history"), 0);
}

#[test]
fn one_device_record_may_carry_a_glucose_and_carbs() {
    let mut s = store();
    let src = Source::device(SourceKind::Meter, dev("roche:guide:123"), 9);
    let g = glucose(
        "2026-03-01T12:00:00+01:00",
        1.10,
        GlucoseUnit::GramsPerLitre,
        src.clone(),
    );
    let carbs = Entry {
        kind: EntryKind::Carbs(Carbs::new(60.0, None).unwrap()),
        ..g.clone()
    };
    let report = s.add_batch(&[g, carbs], now()).unwrap();
    assert_eq!(report.added, 2);
}

#[test]
fn manual_entries_are_never_deduplicated() {
    let mut s = store();
    let e = glucose(
        "2026-03-01T08:00:00+01:00",
        1.0,
        GlucoseUnit::GramsPerLitre,
        Source::manual(),
    );
    assert!(matches!(s.add(&e, now()).unwrap(), AddOutcome::Added(_)));
    assert!(matches!(s.add(&e, now()).unwrap(), AddOutcome::Added(_)));
    assert_eq!(s.count_entries().unwrap(), 2);
}

#[test]
fn a_correction_keeps_the_previous_version() {
    let mut s = store();
    let e = glucose(
        "2026-03-01T08:00:00+01:00",
        1.26,
        GlucoseUnit::GramsPerLitre,
        Source::manual(),
    );
    let AddOutcome::Added(id) = s.add(&e, now()).unwrap() else {
        panic!()
    };
    let fixed = glucose(
        "2026-03-01T08:05:00+01:00",
        1.62,
        GlucoseUnit::GramsPerLitre,
        Source::manual(),
    );
    assert_eq!(s.correct(id, &fixed, Some("typo"), later(10)).unwrap(), 2);

    let h = s.history(id).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0].version, &h[0].entry, h[0].recorded_at),
        (1, &e, now())
    );
    assert_eq!((h[1].version, &h[1].entry), (2, &fixed));
    assert_eq!(
        (h[1].reason.as_deref(), h[1].recorded_at),
        (Some("typo"), later(10))
    );
    assert_eq!(s.get(id).unwrap().unwrap(), h[1]);
    assert_eq!(
        rows(
            &s,
            "SELECT count(*) FROM entry_history WHERE superseded_ms IS NOT NULL"
        ),
        1
    );
    let points = s.glucose_points(None, None).unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].level, ilot_rules::Level::MgDl(162.0));
}

#[test]
fn a_corrected_device_reading_downloaded_again_is_a_duplicate() {
    let mut s = store();
    let e = cgm("2026-03-01T08:00:00Z", 112.0, 5);
    let AddOutcome::Added(id) = s.add(&e, now()).unwrap() else {
        panic!()
    };
    let fixed = cgm("2026-03-01T09:00:00Z", 112.0, 5);
    s.correct(id, &fixed, Some("meter clock was an hour behind"), now())
        .unwrap();
    assert_eq!(s.add(&e, later(1)).unwrap(), AddOutcome::Duplicate(id));
    s.delete(id, None, later(2)).unwrap();
    assert_eq!(s.add(&e, later(3)).unwrap(), AddOutcome::Duplicate(id));
    assert_eq!(s.count_entries().unwrap(), 0);
}

#[test]
fn a_correction_keeps_source_and_kind() {
    let mut s = store();
    let e = cgm("2026-03-01T08:00:00Z", 112.0, 5);
    let AddOutcome::Added(id) = s.add(&e, now()).unwrap() else {
        panic!()
    };
    let other_record = cgm("2026-03-01T08:00:00Z", 112.0, 6);
    assert!(matches!(
        s.correct(id, &other_record, None, now()),
        Err(StoreError::SourceMismatch)
    ));
    let note = Entry {
        kind: EntryKind::Note(Note::new("x").unwrap()),
        ..e
    };
    let err = s.correct(id, &note, None, now()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::KindMismatch {
                was: "glucose",
                now: "note"
            }
        ),
        "{err}"
    );
    assert!(matches!(
        s.correct(99, &note, None, now()),
        Err(StoreError::NotFound(99))
    ));
    assert_eq!(s.history(id).unwrap().len(), 1);
}

#[test]
fn a_deletion_is_a_tombstone() {
    let mut s = store();
    let keep = cgm("2026-03-01T08:00:00Z", 112.0, 1);
    let gone = cgm("2026-03-01T08:05:00Z", 45.0, 2);
    let report = s.add_batch(&[keep, gone.clone()], now()).unwrap();
    let id = report.ids[1].unwrap();
    assert_eq!(
        s.delete(id, Some("sensor compression"), later(5)).unwrap(),
        2
    );

    let points = s.glucose_points(None, None).unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].id, report.ids[0].unwrap() as u64);
    assert_eq!(s.count_entries().unwrap(), 1);
    assert_eq!(s.entries(None, None, None, false).unwrap().len(), 1);
    assert_eq!(s.entries(None, None, None, true).unwrap().len(), 2);

    let h = s.history(id).unwrap();
    assert_eq!(h.len(), 2);
    assert!(!h[0].deleted && h[1].deleted);
    assert_eq!(h[1].entry, gone);
    assert_eq!(h[1].reason.as_deref(), Some("sensor compression"));

    assert!(matches!(s.delete(id, None, later(6)), Err(StoreError::Deleted(i)) if i == id));
    assert!(matches!(
        s.correct(id, &gone, None, later(6)),
        Err(StoreError::Deleted(_))
    ));
    assert!(matches!(
        s.delete(1234, None, later(6)),
        Err(StoreError::NotFound(1234))
    ));
}

#[test]
fn future_entries_are_refused() {
    let mut s = store();
    let e = cgm("2026-06-01T12:06:00Z", 100.0, 1);
    assert!(matches!(s.add(&e, now()), Err(StoreError::Invalid(_))));
    assert!(s.add(&cgm("2026-06-01T12:04:00Z", 100.0, 1), now()).is_ok());
}

#[test]
fn the_schema_refuses_overwrites_and_erasure() {
    let mut s = store();
    let AddOutcome::Added(id) = s
        .add(&cgm("2026-03-01T08:00:00Z", 100.0, 1), now())
        .unwrap()
    else {
        panic!()
    };
    s.correct(id, &cgm("2026-03-01T08:00:00Z", 101.0, 1), None, now())
        .unwrap();
    for sql in [
        "UPDATE entries SET g_value = 50, g_mg_dl = 50",
        "UPDATE entries SET version = version + 1, dedup_no = 99",
        "DELETE FROM entries",
        "DELETE FROM entry_history",
        "UPDATE entry_history SET g_value = 1",
        "UPDATE outbox SET op = 3",
        "UPDATE sources SET device = 'other'",
        "DELETE FROM sources",
    ] {
        assert!(s.conn.execute(sql, []).is_err(), "{sql} was allowed");
    }
    assert_eq!(s.history(id).unwrap().len(), 2);
}
