//! Store behaviour through `open_in_memory()`, which runs the same migrations as a file database.

mod batches;
mod entries;
mod keys;
mod outbox;
mod outbox_batches;
mod queries;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use ilot_domain::{
    DeviceId, Entry, EntryKind, Glucose, GlucoseReading, GlucoseUnit, MealContext, Source,
    SourceKind,
};

use crate::Store;

pub(crate) fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// A fixed "now" well after every test entry.
pub(crate) fn now() -> DateTime<Utc> {
    t("2026-06-01T12:00:00Z").with_timezone(&Utc)
}

pub(crate) fn later(minutes: i64) -> DateTime<Utc> {
    now() + TimeDelta::minutes(minutes)
}

pub(crate) fn dev(s: &str) -> DeviceId {
    DeviceId::new(s).unwrap()
}

pub(crate) fn glucose(at: &str, value: f64, unit: GlucoseUnit, source: Source) -> Entry {
    Entry {
        at: t(at),
        source,
        kind: EntryKind::Glucose(GlucoseReading::capillary(
            Glucose::new(value, unit).unwrap(),
            MealContext::Fasting,
        )),
    }
}

pub(crate) fn cgm(at: &str, mg_dl: f64, record: u32) -> Entry {
    Entry {
        at: t(at),
        source: Source::device(SourceKind::Cgm, dev("dexcom:g7:abc"), record),
        kind: EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(mg_dl).unwrap())),
    }
}

pub(crate) fn store() -> Store {
    Store::open_in_memory().unwrap()
}

/// A raw count, to check the tables behind the API.
pub(crate) fn rows(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn memory_store_runs_the_migrations() {
    let s = store();
    let version: i64 = s
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    // V1 (entries), V2 (sync state, `sync_state.rs`), V3 (the app's marks, `app_state.rs`).
    assert_eq!(version, 3);
    for table in [
        "meta",
        "sources",
        "entry_rows",
        "batches",
        "entry_history",
        "outbox",
        "outbox_sent",
        "profile",
        "prescription",
        "sync_values",
        "sync_in_flight",
        "care_items",
        "alert_marks",
        "unlock_attempts",
    ] {
        let n = rows(
            &s,
            &format!(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
            ),
        );
        assert_eq!(n, 1, "{table}");
    }
    assert_eq!(
        rows(
            &s,
            "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'entries'"
        ),
        1
    );
    let id = s.installation_id().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_ne!(id, store().installation_id().unwrap());
    assert_eq!(s.count_entries().unwrap(), 0);
    assert_eq!(s.path(), None);
}

#[test]
fn debug_shows_no_connection_details() {
    assert_eq!(format!("{:?}", store()), "Store { path: None, .. }");
}
