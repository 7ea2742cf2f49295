//! A flash patient's scans and sensor history travel to the server, and the server's observance
//! (its rules on the entries it received) is the device's: scans count, the history does not.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{
    DeviceId, DiabetesType, Entry, EntryKind, Glucose, GlucoseReading, Monitoring, Prescription,
    Source,
};
use ilot_rules::observance::{NotBillable, PeriodStatus, observance};
use ilot_sync::{Limits, sync_once};

use crate::support::*;

/// `per_day` readings a day from `from` for `days` days, each `make` of a value.
fn series(
    from: &str,
    days: i64,
    per_day: i64,
    offset_min: i64,
    make: fn(Glucose) -> GlucoseReading,
) -> Vec<Entry> {
    let start: DateTime<Utc> = from.parse().unwrap();
    let origin = DeviceId::new("libreview:flash-1").unwrap();
    (0..days * per_day)
        .map(|k| {
            let at = start + TimeDelta::minutes(k * 1440 / per_day + offset_min);
            let value = Glucose::from_mg_dl(100.0 + (k % 50) as f64).unwrap();
            Entry::new(
                at.fixed_offset(),
                Source::import(origin.clone()),
                EntryKind::Glucose(make(value)),
                t0(),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn server_and_device_count_a_flash_patients_scans_alike() {
    let server = TestServer::start();
    let mut p = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Flash,
        4,
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    );
    p.expected_insulin_per_day = 0;
    let e = server.new_patient_with("P-FLASH", p);
    let mut dev = enrolled(&server, &e.code);
    // Period 1 (1–30 January, Paris dates): the sensor's 15-minute history only. Period 2
    // (31 January – 1 March): four scans a day, no history.
    let mut entries = series("2025-12-31T23:00:00Z", 30, 96, 3, GlucoseReading::cgm);
    entries.extend(series(
        "2026-01-30T23:00:00Z",
        30,
        4,
        7,
        GlucoseReading::scan,
    ));
    dev.store.add_batch(&entries, t0()).unwrap();
    let live = transport(&server.url());
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.stored, r.duplicates), (30 * 96 + 30 * 4, 0));

    let on_server = ilot_server::rules::observance(server.state.storage(), e.patient_id, t0())
        .unwrap()
        .unwrap();
    let prescription = dev.store.prescription().unwrap().unwrap();
    let on_device = observance(
        &prescription,
        &dev.store.profile_or_default().unwrap(),
        &dev.store.rules_data(None, Some(t0())).unwrap().data(),
        t0(),
    );
    let p1 = &on_device.periods[0];
    assert_eq!((p1.glucose, p1.scans, p1.received), (2880, Some(0), 0));
    assert_eq!(p1.status, PeriodStatus::Insufficient);
    let p2 = &on_device.periods[1];
    assert_eq!((p2.scans, p2.ratio), (Some(120), 1.0));
    assert_eq!(p2.status, PeriodStatus::Complete);
    assert_eq!(p2.not_billable, Some(NotBillable::PreviousInsufficient));
    assert_eq!(
        serde_json::to_value(&on_server).unwrap(),
        serde_json::to_value(&on_device).unwrap()
    );
}
