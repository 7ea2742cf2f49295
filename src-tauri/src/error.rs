//! The shell's one error type: wraps each crate's error and reaches the UI as
//! `{ kind, code, message, params }`. `code` names the condition so the UI can say it in the
//! patient's language (`error.<code>` in the catalogues, filled from `params`); `message` is the
//! crate's English text, shown only when the UI has no translation. Never a secret: the crates'
//! messages carry none, and the PIN never reaches an error.

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] ilot_store::StoreError),
    #[error(transparent)]
    Domain(#[from] ilot_domain::DomainError),
    /// Bad input the shell itself detected; `code` is an i18n key suffix.
    #[error("{message}")]
    Input {
        code: &'static str,
        message: String,
        params: Value,
    },
    #[error("the app is locked: enter your PIN")]
    Locked,
    #[error("the app's data folder is unavailable: {0}")]
    DataDir(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Ble(#[from] ilot_ble::BleError),
    #[error(transparent)]
    Sync(#[from] ilot_sync::SyncError),
}

impl Error {
    pub fn input(code: &'static str, message: impl Into<String>) -> Self {
        Self::Input {
            code,
            message: message.into(),
            params: Value::Null,
        }
    }

    pub fn input_with(code: &'static str, message: impl Into<String>, params: Value) -> Self {
        Self::Input {
            code,
            message: message.into(),
            params,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Domain(_) | Self::Input { .. } => "input",
            Self::Store(ilot_store::StoreError::Invalid(_)) => "input",
            Self::Store(_) => "store",
            Self::Locked => "locked",
            Self::DataDir(_) | Self::Io(_) => "setup",
            Self::Ble(_) => "device",
            Self::Sync(_) => "sync",
        }
    }

    /// The condition's name and the values a translated message needs.
    fn code_and_params(&self) -> (&'static str, Value) {
        match self {
            Self::Domain(d) | Self::Store(ilot_store::StoreError::Invalid(d)) => {
                d.code_and_params()
            }
            Self::Input { code, params, .. } => (code, params.clone()),
            Self::Store(ilot_store::StoreError::NotFound(_)) => ("not-found", Value::Null),
            Self::Store(ilot_store::StoreError::Deleted(_)) => ("deleted", Value::Null),
            // An export's file could not be written (the export writes its own files).
            Self::Store(ilot_store::StoreError::Io { .. }) => ("io", Value::Null),
            Self::Store(_) => ("store", Value::Null),
            Self::Locked => ("locked", Value::Null),
            Self::DataDir(_) => ("data-dir", Value::Null),
            Self::Io(_) => ("io", Value::Null),
            Self::Ble(b) => {
                use ilot_ble::BleError as B;
                let code = match b {
                    B::NoAdapter(_) => "bluetooth-unavailable",
                    B::RadioOff => "bluetooth-off",
                    B::NotFound(_) => "device-not-found",
                    B::Refused(_) => "device-refused",
                    B::Disconnected(_) | B::Timeout { .. } | B::GaveUp { .. } => "device-lost",
                    B::MissingCharacteristic { .. } | B::NotCgm => "device-unsupported",
                    _ => "bluetooth",
                };
                (code, json!({ "message": b.to_string() }))
            }
            Self::Sync(e) => sync_code(e),
        }
    }
}

/// Enrolment and sync failures, named so the UI can say what to do in the patient's language.
fn sync_code(e: &ilot_sync::SyncError) -> (&'static str, Value) {
    use ilot_sync::SyncError as S;
    use ilot_wire::WireError as W;
    use ilot_wire::api::ErrorCode as C;
    match e {
        S::NotEnrolled => ("not-enrolled", Value::Null),
        S::AlreadyEnrolled { server, .. } => ("already-enrolled", json!({ "server": server })),
        S::SecretLostWithUnsent => ("enrol-secret-lost", Value::Null),
        S::ReenrolNotConfirmed(_) => ("enrol-not-confirmed", Value::Null),
        S::ConsentRequired => ("no-consent", Value::Null),
        S::Unreachable { server, .. } => ("server-unreachable", json!({ "server": server })),
        S::UntrustedServer { .. } | S::BadCertificate(_) => ("server-untrusted", Value::Null),
        S::Refused { code, message, .. } => match code {
            C::EnrolmentCodeExpired => ("enrol-expired", Value::Null),
            C::EnrolmentCodeUsed => ("enrol-used", Value::Null),
            C::EnrolmentCodeInvalid | C::NotFound => ("enrol-unknown", Value::Null),
            C::CodeForAnotherPatient => ("enrol-other-patient", Value::Null),
            C::DeviceStillEnrolled => ("enrol-still-enrolled", Value::Null),
            C::RateLimited | C::Unavailable | C::Internal => ("server-busy", Value::Null),
            _ => ("server-refused", json!({ "message": message })),
        },
        S::Wire(W::FingerprintMismatch { .. } | W::KeyConfirmationMismatch | W::WeakPublicKey) => {
            ("server-key-mismatch", Value::Null)
        }
        S::Wire(W::CodeLength { .. } | W::CodeCharacter { .. } | W::CodeCheck) => {
            ("enrol-code-typo", Value::Null)
        }
        S::Wire(
            W::NotAnEnrolmentLink(_)
            | W::MissingField(_)
            | W::DuplicateField(_)
            | W::InvalidField { .. },
        ) => ("enrol-link-bad", Value::Null),
        S::Wire(W::InvalidServerUrl { got, .. }) => ("server-url-bad", json!({ "server": got })),
        S::Wire(_) | S::BadResponse { .. } => ("server-not-ilot", Value::Null),
        S::Store(_) => ("store", Value::Null),
        S::State(_) => ("sync-state", Value::Null),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (code, params) = self.code_and_params();
        let mut st = s.serialize_struct("Error", 4)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("code", code)?;
        st.serialize_field("message", &self.to_string())?;
        st.serialize_field("params", &params)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implausible_glucose_reaches_the_ui_with_a_code() {
        let e: Error = ilot_domain::Glucose::parse("12", ilot_domain::GlucoseUnit::GramsPerLitre)
            .unwrap_err()
            .into();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "input");
        assert_eq!(v["code"], "glucose-implausible");
        assert!(v["message"].as_str().unwrap().contains("10–600 mg/dL"));
    }

    #[test]
    fn out_of_range_carries_its_bounds() {
        let e: Error = ilot_domain::Weight::new(5.0).unwrap_err().into();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "out-of-range");
        assert_eq!(v["params"]["min"], 20.0);
        assert_eq!(v["params"]["max"], 350.0);
    }

    // The app's entry point for a prescription is the store (what the care team sends is
    // recorded through `Store::set_prescription`): a severe threshold above level 1 is refused
    // there with the domain's message, and reaches the UI as `error.invalid-prescription`.
    #[test]
    fn a_prescription_breaking_a_threshold_rule_is_refused_with_its_rule() {
        let mut store = ilot_store::Store::open_in_memory().unwrap();
        let mut p = ilot_domain::Prescription::new(
            ilot_domain::DiabetesType::Type1,
            ilot_domain::Monitoring::Cgm,
            4,
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        );
        p.policy.severe_mg_dl = 80.0;
        let e: Error = store
            .set_prescription(&p, chrono::Utc::now())
            .unwrap_err()
            .into();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            (v["kind"].as_str(), v["code"].as_str()),
            (Some("input"), Some("invalid-prescription"))
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("the severe-hypo threshold (80 mg/dL) must be below hypo level 1"),
            "{v}"
        );
        assert_eq!(store.prescription().unwrap(), None, "nothing recorded");
    }

    #[test]
    fn locked_is_its_own_kind() {
        let v = serde_json::to_value(Error::Locked).unwrap();
        assert_eq!(
            (v["kind"].as_str(), v["code"].as_str()),
            (Some("locked"), Some("locked"))
        );
    }
}
