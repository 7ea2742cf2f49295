//! Identifiers that cross the wire: the patient (given by the server at enrolment) and the
//! enrolled app installation ("device"). Both are 128 random bits, written as 32 lowercase hex
//! digits in JSON and in logs. They are pseudonymous: neither says who the patient is.
//!
//! [`DeviceId`] here is the enrolled app, not a glucose meter (`ilot_domain::DeviceId`).

use std::fmt;
use std::str::FromStr;

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::error::{Result, WireError};

macro_rules! id128 {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name([u8; 16]);

        impl $name {
            pub const LEN: usize = 16;

            /// A fresh random id (the server makes patient and device ids at enrolment).
            pub fn random(rng: &mut impl CryptoRng) -> Self {
                let mut b = [0u8; 16];
                rng.fill_bytes(&mut b);
                Self(b)
            }

            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = WireError;
            fn from_str(s: &str) -> Result<Self> {
                let bad = |reason| WireError::InvalidId { what: $what, got: s.to_string(), reason };
                if s.len() != 32 {
                    return Err(bad("it must be 32 hexadecimal digits"));
                }
                let mut b = [0u8; 16];
                hex::decode_to_slice(s, &mut b).map_err(|_| bad("it must be 32 hexadecimal digits"))?;
                Ok(Self(b))
            }
        }

        impl TryFrom<String> for $name {
            type Error = WireError;
            fn try_from(s: String) -> Result<Self> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

id128!(
    /// The patient, as the operator server knows them (pseudonymous; never the INS).
    PatientId,
    "patient id"
);
id128!(
    /// One enrolled installation of the app. A patient may enrol several devices in turn.
    DeviceId,
    "device id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = PatientId::from_bytes([0xab; 16]);
        assert_eq!(id.to_string(), "ab".repeat(16));
        assert_eq!(id.to_string().parse::<PatientId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", "ab".repeat(16)));
        assert_eq!(serde_json::from_str::<PatientId>(&json).unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_refused_with_their_name() {
        let e = "xyz".parse::<DeviceId>().unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid device id \"xyz\": it must be 32 hexadecimal digits"
        );
        assert!("g".repeat(32).parse::<DeviceId>().is_err());
    }
}
