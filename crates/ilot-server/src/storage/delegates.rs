//! The care-team, limits and revocation methods of [`super::Storage`], forwarded by each backend
//! to its own `sec_*`, `lim_*` and `rev_*` methods, so that the two backends do not repeat them.

/// The care-team and second-factor methods of [`Storage`], forwarded to each backend's
/// `sec_*` methods (in its `security.rs`), so that the two backends do not repeat them.
macro_rules! security_delegates {
    () => {
        fn create_team(&self, name: &str, now: DateTime<Utc>) -> Result<i64> {
            self.sec_create_team(name, now)
        }
        fn team_by_name(&self, name: &str) -> Result<Option<i64>> {
            self.sec_team_by_name(name)
        }
        fn set_operator_team(&self, operator_id: i64, team: i64) -> Result<()> {
            self.sec_set_operator_team(operator_id, team)
        }
        fn operator_team(&self, operator_id: i64) -> Result<Option<i64>> {
            self.sec_operator_team(operator_id)
        }
        fn set_patient_team(&self, patient: PatientId, team: i64) -> Result<()> {
            self.sec_set_patient_team(patient, team)
        }
        fn patient_team(&self, patient: PatientId) -> Result<Option<i64>> {
            self.sec_patient_team(patient)
        }
        fn team_patients(&self, team: i64) -> Result<Vec<PatientId>> {
            self.sec_team_patients(team)
        }
        fn team_audit_log(&self, team: i64, limit: u32) -> Result<Vec<AuditRow>> {
            self.sec_team_audit_log(team, limit)
        }
        fn set_totp_secret(&self, operator_id: i64, secret: &TotpSecret) -> Result<()> {
            self.sec_set_totp_secret(operator_id, secret)
        }
        fn totp_secret(&self, operator_id: i64) -> Result<Option<TotpSecret>> {
            self.sec_totp_secret(operator_id)
        }
        fn accept_totp_step(&self, operator_id: i64, step: u64) -> Result<bool> {
            self.sec_accept_totp_step(operator_id, step)
        }
    };
}
pub(crate) use security_delegates;

/// The V3 methods of [`Storage`] (counters, audit records), forwarded to each backend's `lim_*`
/// methods (in its `limits.rs`).
macro_rules! limits_delegates {
    () => {
        fn count_attempt(
            &self,
            keys: &[super::RateKey],
            now: DateTime<Utc>,
        ) -> Result<Option<u64>> {
            self.lim_count_attempt(keys, now)
        }
        fn forgive_attempt(&self, keys: &[super::RateKey], now: DateTime<Utc>) -> Result<()> {
            self.lim_forgive_attempt(keys, now)
        }
        fn rate_windows(&self) -> Result<u64> {
            self.lim_rate_windows()
        }
        fn record_audit(&self, event: &super::AuditEvent) -> Result<()> {
            self.lim_record_audit(event)
        }
    };
}
pub(crate) use limits_delegates;
/// The revocation methods of [`Storage`], forwarded to each backend's `rev_*` methods (in its
/// `revocation.rs`).
macro_rules! revocation_delegates {
    () => {
        fn end_session(&self, token_hash: &[u8; 32]) -> Result<bool> {
            self.rev_end_session(token_hash)
        }
        fn end_operator_sessions(&self, operator_id: i64) -> Result<u64> {
            self.rev_end_operator_sessions(operator_id)
        }
        fn operator_state(&self, username: &str) -> Result<Option<super::OperatorState>> {
            self.rev_operator_state(username)
        }
        fn set_operator_disabled(&self, operator_id: i64, at: Option<DateTime<Utc>>) -> Result<()> {
            self.rev_set_operator_disabled(operator_id, at)
        }
        fn set_password_hash(&self, operator_id: i64, password_hash: &str) -> Result<()> {
            self.rev_set_password_hash(operator_id, password_hash)
        }
        fn patient_devices(&self, patient: PatientId) -> Result<Vec<super::DeviceInfo>> {
            self.rev_patient_devices(patient)
        }
        fn device_info(&self, id: DeviceId) -> Result<Option<super::DeviceInfo>> {
            self.rev_device_info(id)
        }
        fn revoke_device(
            &self,
            id: DeviceId,
            now: DateTime<Utc>,
        ) -> Result<Option<super::DeviceInfo>> {
            self.rev_revoke_device(id, now)
        }
        fn cancel_enrolment_codes(&self, patient: PatientId, now: DateTime<Utc>) -> Result<u64> {
            self.rev_cancel_enrolment_codes(patient, now)
        }
        fn device_any(&self, id: DeviceId) -> Result<Option<(DeviceRow, bool)>> {
            self.re_device_any(id)
        }
        fn redeem_code_replacing(
            &self,
            code: &str,
            device: &DeviceRow,
            replaces: DeviceId,
            now: DateTime<Utc>,
        ) -> Result<std::result::Result<PatientId, super::CodeRefusal>> {
            self.re_redeem_code_replacing(code, device, replaces, now)
        }
    };
}
pub(crate) use revocation_delegates;

/// The Pro Santé Connect methods of [`Storage`] (migration V9), forwarded to each backend's
/// `psc_*` methods (in its `psc.rs`).
macro_rules! psc_delegates {
    () => {
        fn psc_begin(
            &self,
            state_hash: &[u8; 32],
            flow: &super::PscFlow,
            now: DateTime<Utc>,
        ) -> Result<()> {
            self.psc_store_flow(state_hash, flow, now)
        }
        fn psc_take(
            &self,
            state_hash: &[u8; 32],
            now: DateTime<Utc>,
        ) -> Result<Option<super::PscFlow>> {
            self.psc_take_flow(state_hash, now)
        }
        fn link_rpps(&self, operator_id: i64, rpps: &str, now: DateTime<Utc>) -> Result<()> {
            self.psc_link_rpps(operator_id, rpps, now)
        }
        fn unlink_rpps(&self, operator_id: i64) -> Result<Option<String>> {
            self.psc_unlink_rpps(operator_id)
        }
        fn operator_by_rpps(&self, rpps: &str) -> Result<Option<Operator>> {
            self.psc_operator_by_rpps(rpps)
        }
        fn rpps_of(&self, operator_id: i64) -> Result<Option<String>> {
            self.psc_rpps_of(operator_id)
        }
    };
}
pub(crate) use psc_delegates;
