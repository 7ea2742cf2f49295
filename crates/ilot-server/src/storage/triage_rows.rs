//! The triage's rows (migration V6): daily glucose summaries and review marks, and the
//! forwarding of [`super::Storage`]'s triage methods to each backend's `tri_*` methods.

use chrono::{DateTime, Utc};
use ilot_wire::PatientId;
use serde::Serialize;

/// One patient's summary of one local day (see `crate::summary`).
#[derive(Debug, Clone, PartialEq)]
pub struct GlucoseDay {
    pub patient_id: PatientId,
    pub day: chrono::NaiveDate,
    pub summary: ilot_rules::metrics::summary::Summary,
}

/// "Reviewed" mark: who looked at the patient's data, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewRow {
    pub id: i64,
    pub patient_id: PatientId,
    pub operator_id: i64,
    /// The operator's name.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The triage methods of [`super::Storage`], forwarded to each backend's `tri_*` methods (in its
/// `triage.rs`).
macro_rules! triage_delegates {
    () => {
        fn glucose_days(&self, team: i64, since: DateTime<Utc>) -> Result<Vec<super::GlucoseDay>> {
            self.tri_glucose_days(team, since)
        }
        fn add_review(
            &self,
            patient: PatientId,
            operator_id: i64,
            now: DateTime<Utc>,
        ) -> Result<super::ReviewRow> {
            self.tri_add_review(patient, operator_id, now)
        }
        fn undo_review(
            &self,
            patient: PatientId,
            operator_id: i64,
            now: DateTime<Utc>,
        ) -> Result<Option<super::ReviewRow>> {
            self.tri_undo_review(patient, operator_id, now)
        }
        fn team_reviews(&self, team: i64, since: DateTime<Utc>) -> Result<Vec<super::ReviewRow>> {
            self.tri_team_reviews(team, since)
        }
        fn team_prescriptions(
            &self,
            team: i64,
        ) -> Result<Vec<(PatientId, ilot_wire::PrescriptionUpdate)>> {
            self.tri_team_prescriptions(team)
        }
        fn observance_cache(
            &self,
            patient: PatientId,
        ) -> Result<Option<(chrono::NaiveDate, u32, String)>> {
            self.tri_observance_cache(patient)
        }
        fn set_observance_cache(
            &self,
            patient: PatientId,
            day: chrono::NaiveDate,
            rx_version: u32,
            json: &str,
        ) -> Result<()> {
            self.tri_set_observance_cache(patient, day, rx_version, json)
        }
    };
}
pub(crate) use triage_delegates;
