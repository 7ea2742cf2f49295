//! The shared clinical rules on the server side: turn stored entries into the rules' input and
//! run `ilot-rules` (alerts after each ingest, the "no data transmitted" alert on a schedule,
//! metrics and observance for the operator). The decisions are all in `ilot-rules`; this module
//! only gathers and applies.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::PatientProfile;
use ilot_rules::Loaded;
use ilot_wire::PatientId;

use crate::error::{Result, ServerError};
use crate::storage::{PatientRow, ServerEntry, Storage};

/// The rules' input from the server's time-sorted entries ([`ilot_rules::Loaded::from_entries`],
/// the same conversion the device's store makes). Entry ids are per device; the index in this
/// list is unique here, so it names the entries behind an alert.
fn loaded(entries: &[ServerEntry]) -> Loaded {
    Loaded::from_entries(
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64, &e.entry)),
    )
}

/// Days of data the alert rules look back over (the longest rule, TBR, needs 14 days).
const LOOKBACK_DAYS: i64 = 15;

/// Evaluates the patient's alerts over the data from `earliest − 15 days` and stores them.
pub fn evaluate_after_ingest(
    storage: &dyn Storage,
    patient: PatientId,
    earliest: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let Some(row) = storage.patient(patient)? else {
        return Ok(0);
    };
    let Some(p) = storage.prescription(patient)? else {
        return Ok(0);
    };
    let from = earliest - TimeDelta::days(LOOKBACK_DAYS);
    let entries = storage.entries(patient, from, now + TimeDelta::days(1), false)?;
    let data = loaded(&entries);
    let days_from = from.with_timezone(&row.tz).date_naive();
    let last = row.last_data_at.or(row.enrolled_at);
    let alerts =
        ilot_rules::alerts::evaluate(&p.prescription, row.tz, &data.data(), last, days_from, now);
    storage.upsert_alerts(patient, &alerts, now)
}

/// The scheduler's pass: the "no data transmitted" alert for every enrolled patient (SPEC §2:
/// it cannot be disabled, and only the server can notice the device's silence).
pub fn raise_no_data(storage: &dyn Storage, now: DateTime<Utc>) -> Result<usize> {
    let mut new = 0;
    // A closed record expects nothing more, a restricted one is not processed.
    let ended: std::collections::HashSet<PatientId> = storage
        .record_statuses()?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for row in storage
        .patients()?
        .into_iter()
        .filter(|r| !ended.contains(&r.id))
    {
        let Some(last) = row.last_data_at.or(row.enrolled_at) else {
            continue;
        };
        let Some(p) = storage.prescription(row.id)? else {
            continue;
        };
        if let Some(a) = ilot_rules::alerts::no_data(&p.prescription.policy, Some(last), now) {
            new += storage.upsert_alerts(row.id, &[a], now)?;
        }
    }
    Ok(new)
}

/// Observance and billing periods of a patient at `now`.
pub fn observance(
    storage: &dyn Storage,
    patient: PatientId,
    now: DateTime<Utc>,
) -> Result<Option<ilot_rules::observance::Observance>> {
    let (Some(row), Some(p)) = (storage.patient(patient)?, storage.prescription(patient)?) else {
        return Ok(None);
    };
    let start = p
        .prescription
        .start
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc() - TimeDelta::days(1))
        .unwrap_or(now);
    let entries = storage.entries(patient, start, now + TimeDelta::days(1), false)?;
    let data = loaded(&entries);
    let mut profile = PatientProfile::new(row.pseudonym);
    profile.tz = row.tz;
    profile.ins = crate::identity::exported_ins(storage, patient)?;
    let prescription = crate::record::in_force(p.prescription, &storage.record_status(patient)?);
    Ok(Some(ilot_rules::observance::observance(
        &prescription,
        &profile,
        &data.data(),
        now,
    )))
}

/// Glucose metrics of the last `days` days.
pub fn metrics(
    storage: &dyn Storage,
    patient: PatientId,
    days: u32,
    now: DateTime<Utc>,
) -> Result<ilot_rules::metrics::Metrics> {
    let from = now - TimeDelta::days(i64::from(days));
    let entries = storage.entries(patient, from, now, false)?;
    let data = loaded(&entries);
    let prescription = storage.prescription(patient)?.map(|p| p.prescription);
    let ranges = ilot_rules::assumed::ranges(prescription.as_ref());
    Ok(ilot_rules::metrics::metrics(
        &data.glucose,
        ilot_rules::metrics::Window::new(from, now),
        &ranges,
    ))
}

/// The one-page AGP report (PDF) of the last `days` days, in `lang`. Values are shown in mg/dL
/// and g/L (the server does not know the patient's display unit).
pub fn report_pdf(
    storage: &dyn Storage,
    row: &PatientRow,
    days: u32,
    lang: ilot_report::Lang,
    now: DateTime<Utc>,
) -> Result<Vec<u8>> {
    let from = now - TimeDelta::days(i64::from(days));
    let entries = storage.entries(row.id, from, now, false)?;
    let data = loaded(&entries);
    let prescription = storage.prescription(row.id)?.map(|p| p.prescription);
    let report = ilot_report::compute(&ilot_report::Input {
        patient: ilot_report::Patient {
            pseudonym: row.pseudonym.clone(),
            identity: crate::identity::exported_ins(storage, row.id)?,
        },
        points: &data.glucose,
        window: ilot_rules::metrics::Window::new(from, now),
        tz: row.tz,
        ranges: ilot_rules::assumed::ranges(prescription.as_ref()),
        unit: ilot_domain::GlucoseUnit::GramsPerLitre,
        generated_at: now,
    });
    ilot_report::pdf(&report, lang)
        .map_err(|e| ServerError::refused(ilot_wire::api::ErrorCode::Internal, e.to_string()))
}
