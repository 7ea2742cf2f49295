//! The patient page's methods of [`super::Storage`] (migration V7 and the console's reads),
//! forwarded by each backend to its `patient.rs`.

/// The patient-page methods of [`Storage`], forwarded to each backend's `pat_*` methods (in its
/// `patient.rs`).
macro_rules! patient_delegates {
    () => {
        fn entries_before(
            &self,
            patient: PatientId,
            before: Option<super::EntryCursor>,
            limit: u32,
        ) -> Result<Vec<ServerEntry>> {
            self.pat_entries_before(patient, before, limit)
        }
        fn entry_versions(
            &self,
            patient: PatientId,
            device: DeviceId,
            entry_id: i64,
        ) -> Result<Vec<ServerEntry>> {
            self.pat_entry_versions(patient, device, entry_id)
        }
        fn patient_audit(
            &self,
            patient: PatientId,
            before: Option<i64>,
            limit: u32,
        ) -> Result<Vec<(AuditRow, Option<String>)>> {
            self.pat_patient_audit(patient, before, limit)
        }
        fn record_pull(&self, device: DeviceId, cursor: u64) -> Result<()> {
            self.pat_record_pull(device, cursor)
        }
        fn pulled_cursor(&self, patient: PatientId) -> Result<Option<u64>> {
            self.pat_pulled_cursor(patient)
        }
    };
}
pub(crate) use patient_delegates;
