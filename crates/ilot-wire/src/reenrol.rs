//! Re-enrolment in place: a device the care team revoked (lost phone found again, revoked by
//! mistake) asks to be enrolled again with a new code, for the same patient, keeping what it has
//! not sent. Its [`crate::api::EnrolRequest`] carries [`Replaces`]: the ids of the device it
//! was and a proof that it holds that device's secret.
//!
//! The proof is HMAC-SHA-256 under the old device's `re-enrol` key (one more HKDF output of the
//! old key agreement, see `keys.rs`) over
//! `"ilot-wire/v1 re-enrol" ‖ 0x00 ‖ code (10 canonical symbols) ‖ new device public key (32)`.
//! The server derives the same key from its secret and the old device's public key, so only the
//! installation holding the old secret can make it, and a proof seen once cannot be replayed
//! with another code or another new key.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::enrol::EnrolmentCode;
use crate::error::{Result, WireError};
use crate::ids::{DeviceId, PatientId};
use crate::keys::{PublicKey, SessionKeys};

const LABEL: &[u8] = b"ilot-wire/v1 re-enrol\0";

/// The device a re-enrolment replaces, with the proof that this installation is that device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replaces {
    pub patient_id: PatientId,
    pub device_id: DeviceId,
    pub proof: ReenrolProof,
}

/// HMAC-SHA-256 tag, 64 hex digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReenrolProof([u8; 32]);

impl fmt::Debug for ReenrolProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReenrolProof(..)")
    }
}

impl FromStr for ReenrolProof {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut b).map_err(|_| WireError::InvalidKey {
            what: "re-enrolment proof",
            reason: "it must be 64 hexadecimal digits".into(),
        })?;
        Ok(Self(b))
    }
}

impl TryFrom<String> for ReenrolProof {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ReenrolProof> for String {
    fn from(p: ReenrolProof) -> String {
        hex::encode(p.0)
    }
}

fn mac(keys: &SessionKeys, code: &EnrolmentCode, new_key: &PublicKey) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(keys.reenrol.as_ref())
        .expect("HMAC takes a key of any length");
    m.update(LABEL);
    m.update(code.canonical().as_bytes());
    m.update(new_key.as_bytes());
    m
}

impl SessionKeys {
    /// Device side: the proof for re-enrolling with `code` under the new key `new_key`, made
    /// with the keys of the device being replaced.
    pub fn reenrol_proof(&self, code: &EnrolmentCode, new_key: &PublicKey) -> ReenrolProof {
        ReenrolProof(mac(self, code, new_key).finalize().into_bytes().into())
    }

    /// Server side, with the keys it derives for the replaced device: the proof matches, in
    /// constant time.
    pub fn check_reenrol_proof(
        &self,
        code: &EnrolmentCode,
        new_key: &PublicKey,
        proof: &ReenrolProof,
    ) -> Result<()> {
        mac(self, code, new_key)
            .verify_slice(&proof.0)
            .map_err(|_| WireError::ReenrolProofMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceSecret, ServerSecret};

    fn rng(seed: u64) -> rand::rngs::StdRng {
        rand::SeedableRng::seed_from_u64(seed)
    }

    #[test]
    fn only_the_old_secret_makes_a_proof_the_server_accepts_for_that_code_and_key() {
        let server = ServerSecret::generate(&mut rng(1));
        let old = DeviceSecret::generate(&mut rng(2));
        let other = DeviceSecret::generate(&mut rng(3));
        let new_key = DeviceSecret::generate(&mut rng(4)).public_key();
        let (patient, device) = (
            PatientId::from_bytes([7; 16]),
            DeviceId::from_bytes([9; 16]),
        );
        let code = EnrolmentCode::generate(&mut rng(5));
        let device_keys = old.agree(&server.public_key(), patient, device).unwrap();
        let server_keys = server.agree(&old.public_key(), patient, device).unwrap();
        let proof = device_keys.reenrol_proof(&code, &new_key);
        server_keys
            .check_reenrol_proof(&code, &new_key, &proof)
            .unwrap();
        // Through JSON as the request carries it.
        let back: ReenrolProof =
            serde_json::from_value(serde_json::to_value(proof).unwrap()).unwrap();
        server_keys
            .check_reenrol_proof(&code, &new_key, &back)
            .unwrap();

        let refused = |p: &ReenrolProof, c: &EnrolmentCode, k: &PublicKey| {
            matches!(
                server_keys.check_reenrol_proof(c, k, p),
                Err(WireError::ReenrolProofMismatch)
            )
        };
        // Another secret, another code, another new key, another device id: refused.
        let forged = other
            .agree(&server.public_key(), patient, device)
            .unwrap()
            .reenrol_proof(&code, &new_key);
        assert!(refused(&forged, &code, &new_key));
        assert!(refused(
            &proof,
            &EnrolmentCode::generate(&mut rng(6)),
            &new_key
        ));
        assert!(refused(&proof, &code, &other.public_key()));
        let elsewhere = old
            .agree(&server.public_key(), patient, DeviceId::from_bytes([8; 16]))
            .unwrap()
            .reenrol_proof(&code, &new_key);
        assert!(refused(&elsewhere, &code, &new_key));
        assert_eq!(format!("{proof:?}"), "ReenrolProof(..)");
    }

    #[test]
    fn a_first_enrolment_request_and_answer_keep_their_version_1_json() {
        let code = EnrolmentCode::generate(&mut rng(9));
        let key = DeviceSecret::generate(&mut rng(10)).public_key();
        // What an app from before re-enrolment sends is read as a first enrolment.
        let v1 = serde_json::json!({
            "code": code.canonical(),
            "device_public_key": key.to_string(),
            "device_label": null,
            "app_version": "0.1.0",
        });
        let req: crate::api::EnrolRequest = serde_json::from_value(v1.clone()).unwrap();
        assert_eq!(req.replaces, None);
        // And a first enrolment writes exactly those members.
        assert_eq!(serde_json::to_value(&req).unwrap(), v1);
    }
}
