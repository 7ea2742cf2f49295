//! How long the server keeps what it holds, and the pass that deletes what is past it (run by
//! `scheduler.rs`, with the server's clock as `now`, so tests move time).
//!
//! - **Telesurveillance data** is part of the patient's medical record: kept **20 years after
//!   the last care** (Code de la santé publique, art. R.1112-7). The last care is the end of
//!   telesurveillance (`record::close`); a record still open is in care and kept whole. Past
//!   it, the patient and every row about it (entries, alerts, feed, prescriptions, summaries,
//!   reviews, its devices and their batch records) are deleted together.
//! - **Device traceability** (sync batch records, enrolment codes, devices no longer in use):
//!   **10 years** after the last use — a batch record after its reception, a code after its use
//!   or expiry, a device after its revocation or its patient's closure (whichever is first) once
//!   none of its batch records is younger.
//! - A **restriction** (erasure request) hides the data from ordinary reads; it neither
//!   shortens nor lengthens the retention.
//! - The audit log is kept (it holds who read which pseudonymous record, not health data); the
//!   pass adds one audit record of what it deleted — counts, never content.

use chrono::{DateTime, Months, Utc};
use serde_json::{Value, json};

use crate::error::Result;
use crate::storage::{PurgeCounts, RetentionCutoffs, Storage};

/// R.1112-7 CSP: the medical record is kept 20 years from the last care.
pub const CARE_YEARS: u32 = 20;
/// Device traceability (enrolments, sync batch records, device ids): 10 years.
pub const TRACE_YEARS: u32 = 10;
/// The audit action of a retention pass.
pub const PURGE_ACTION: &str = "retention-purge";
/// The audit client of a retention pass.
pub const CLIENT: &str = "scheduler:retention";

fn years_before(now: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    // Calendar years (a 29 February goes to the 28th); before the calendar's start: nothing.
    now.checked_sub_months(Months::new(years * 12))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The limits at `now`: what ended before them is past its retention.
pub fn cutoffs(now: DateTime<Utc>) -> RetentionCutoffs {
    RetentionCutoffs {
        care_before: years_before(now, CARE_YEARS),
        trace_before: years_before(now, TRACE_YEARS),
    }
}

/// One retention pass at `now`: deletes, in one transaction, what is past its retention and
/// writes the audit record of the counts.
pub fn apply(storage: &dyn Storage, now: DateTime<Utc>) -> Result<PurgeCounts> {
    storage.purge_expired(&cutoffs(now), now)
}

/// The detail of the pass's audit record: the counts and the limits, nothing else.
pub fn audit_detail(n: &PurgeCounts, cut: &RetentionCutoffs) -> Value {
    json!({
        "deleted": n,
        "care_before": cut.care_before,
        "trace_before": cut.trace_before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_calendar_years_before_now() {
        let now: DateTime<Utc> = "2046-03-10T12:00:00Z".parse().unwrap();
        let c = cutoffs(now);
        assert_eq!(
            c.care_before,
            "2026-03-10T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            c.trace_before,
            "2036-03-10T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let leap: DateTime<Utc> = "2048-02-29T00:00:00Z".parse().unwrap();
        assert_eq!(
            cutoffs(leap).care_before,
            "2028-02-29T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            cutoffs(leap).trace_before,
            "2038-02-28T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
