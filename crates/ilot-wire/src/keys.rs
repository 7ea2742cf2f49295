//! Key agreement between an enrolled device and the operator server.
//!
//! Each side holds a static X25519 key pair. At enrolment the device learns the server's public
//! key (checked against the fingerprint printed in the QR code), the server learns the device's,
//! and both derive the same [`SessionKeys`]: one AES-256-GCM key per direction, so a message can
//! never be reflected back to its sender, plus a short key confirmation the server returns so the
//! device knows both sides agree before it trusts the enrolment.
//!
//! Key schedule (see `docs/wire-format.md`):
//! - `shared = X25519(own secret, peer public)`, refused if the peer key is of low order;
//! - `PRK = HKDF-Extract(salt = server public ‖ device public, IKM = shared)` with SHA-256;
//! - `key = HKDF-Expand(PRK, info = "ilot-wire/v1 " ‖ label ‖ 0x00 ‖ patient id ‖ device id, L)`
//!   with labels `to-server`, `to-device`, `re-enrol` (L = 32) and `confirm` (L = 16).
//!
//! Secrets zeroize on drop, print as `<redacted>` and implement no serde: persisting one is an
//! explicit `to_bytes()` call whose result zeroizes too.

use std::fmt;
use std::str::FromStr;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use hkdf::Hkdf;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

use crate::error::{Result, WireError};
use crate::ids::{DeviceId, PatientId};

/// Prefix of every HKDF info string; a new key schedule gets a new prefix.
const INFO_PREFIX: &[u8] = b"ilot-wire/v1 ";

/// A static X25519 public key (the server's, or an enrolled device's).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// What the QR code carries so the device can check it talks to the right server.
    pub fn fingerprint(&self) -> Fingerprint {
        let digest = Sha256::digest(self.0);
        let mut f = [0u8; 16];
        f.copy_from_slice(&digest[..16]);
        Fingerprint(f)
    }

    /// Refuses a server key whose fingerprint is not the one the enrolment code carried.
    pub fn verify_fingerprint(&self, expected: &Fingerprint) -> Result<()> {
        let got = self.fingerprint();
        if &got == expected {
            Ok(())
        } else {
            Err(WireError::FingerprintMismatch {
                expected: expected.to_string(),
                got: got.to_string(),
            })
        }
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut b).map_err(|_| WireError::InvalidKey {
            what: "public key",
            reason: "it must be 64 hexadecimal digits".into(),
        })?;
        Ok(Self(b))
    }
}

impl TryFrom<String> for PublicKey {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<PublicKey> for String {
    fn from(k: PublicKey) -> String {
        k.to_string()
    }
}

/// First 16 bytes of SHA-256 over the 32 public-key bytes. Shown to people as eight groups of
/// four hex digits (`3f2a-91bc-…`), carried in the QR code as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// 32 lowercase hex digits without separators (the QR form).
    pub fn compact(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.compact();
        for (i, group) in hex.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            // Hex digits are ASCII, so every chunk is valid UTF-8.
            f.write_str(std::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = WireError;
    /// Accepts the grouped or the compact form, any case, with `-`, `:` or spaces between groups.
    fn from_str(s: &str) -> Result<Self> {
        let digits: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | ':' | ' '))
            .collect();
        let mut b = [0u8; 16];
        hex::decode_to_slice(&digits, &mut b).map_err(|_| WireError::InvalidKey {
            what: "server key fingerprint",
            reason: "it must be 32 hexadecimal digits".into(),
        })?;
        Ok(Self(b))
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.compact()
    }
}

/// Proof, sent by the server in the enrolment response, that it derived the same keys.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyConfirmation([u8; 16]);

impl fmt::Display for KeyConfirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyConfirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyConfirmation({self})")
    }
}

impl FromStr for KeyConfirmation {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self> {
        let mut b = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut b).map_err(|_| WireError::InvalidKey {
            what: "key confirmation",
            reason: "it must be 32 hexadecimal digits".into(),
        })?;
        Ok(Self(b))
    }
}

impl TryFrom<String> for KeyConfirmation {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<KeyConfirmation> for String {
    fn from(k: KeyConfirmation) -> String {
        k.to_string()
    }
}

macro_rules! static_secret {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone)]
        pub struct $name(StaticSecret);

        impl $name {
            /// A new key pair from the caller's cryptographic randomness.
            pub fn generate(rng: &mut impl CryptoRng) -> Self {
                let mut b = Zeroizing::new([0u8; 32]);
                rng.fill_bytes(b.as_mut());
                Self(StaticSecret::from(*b))
            }

            /// Restores a secret saved with [`Self::to_bytes`].
            pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> Self {
                Self(StaticSecret::from(*bytes))
            }

            /// The secret's bytes, to be saved in the OS keyring or the server's key store.
            pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
                Zeroizing::new(self.0.to_bytes())
            }

            pub fn public_key(&self) -> PublicKey {
                PublicKey(x25519_dalek::PublicKey::from(&self.0).to_bytes())
            }

            fn shared(&self, peer: &PublicKey) -> Result<Zeroizing<[u8; 32]>> {
                let shared = self.0.diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
                // An all-zero (non-contributory) result means the peer sent a low-order point:
                // the "shared" secret would be known to anyone.
                if !shared.was_contributory() {
                    return Err(WireError::WeakPublicKey);
                }
                Ok(Zeroizing::new(shared.to_bytes()))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<redacted>, public {})"), self.public_key())
            }
        }
    };
}

static_secret!(
    /// The device's static X25519 secret, made at enrolment and kept in the OS keyring.
    DeviceSecret
);
static_secret!(
    /// The operator server's static X25519 secret; its public key's fingerprint is in every QR code.
    ServerSecret
);

impl DeviceSecret {
    /// Device side of the key agreement, once the server's key was checked against the
    /// fingerprint and the server gave the patient and device ids.
    pub fn agree(
        &self,
        server: &PublicKey,
        patient: PatientId,
        device: DeviceId,
    ) -> Result<SessionKeys> {
        let shared = self.shared(server)?;
        Ok(derive(&shared, server, &self.public_key(), patient, device))
    }
}

impl ServerSecret {
    /// Server side of the key agreement; gives the same keys as [`DeviceSecret::agree`].
    pub fn agree(
        &self,
        device_key: &PublicKey,
        patient: PatientId,
        device: DeviceId,
    ) -> Result<SessionKeys> {
        let shared = self.shared(device_key)?;
        Ok(derive(
            &shared,
            &self.public_key(),
            device_key,
            patient,
            device,
        ))
    }
}

/// The keys of one enrolled device, the same on both sides.
#[derive(Clone)]
pub struct SessionKeys {
    /// Seals what the device sends (batches, pull requests).
    pub to_server: ToServerKey,
    /// Seals what the server sends (pulls, acknowledgements).
    pub to_device: ToDeviceKey,
    /// Returned by the server at enrolment; see [`SessionKeys::confirm`].
    pub confirmation: KeyConfirmation,
    /// HMAC-SHA-256 key of the re-enrolment proof (`crate::reenrol`): the device proves it
    /// holds this device's secret when it asks to be enrolled again in place.
    pub(crate) reenrol: Zeroizing<[u8; 32]>,
}

impl SessionKeys {
    /// Device side: refuses an enrolment whose server derived different keys.
    pub fn confirm(&self, from_server: &KeyConfirmation) -> Result<()> {
        if &self.confirmation == from_server {
            Ok(())
        } else {
            Err(WireError::KeyConfirmationMismatch)
        }
    }
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeys")
            .field("to_server", &self.to_server)
            .field("to_device", &self.to_device)
            .finish_non_exhaustive()
    }
}

fn derive(
    shared: &[u8; 32],
    server: &PublicKey,
    device_key: &PublicKey,
    patient: PatientId,
    device: DeviceId,
) -> SessionKeys {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(&server.0);
    salt[32..].copy_from_slice(&device_key.0);
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let expand = |label: &[u8], out: &mut [u8]| {
        let info = key_info(label, patient, device);
        // 16 and 32 bytes are far below HKDF-SHA256's 8160-byte limit.
        hk.expand(&info, out)
            .expect("HKDF output length is within the SHA-256 limit");
    };
    let mut to_server = Zeroizing::new([0u8; 32]);
    let mut to_device = Zeroizing::new([0u8; 32]);
    let mut reenrol = Zeroizing::new([0u8; 32]);
    let mut confirm = [0u8; 16];
    expand(b"to-server", to_server.as_mut());
    expand(b"to-device", to_device.as_mut());
    expand(b"re-enrol", reenrol.as_mut());
    expand(b"confirm", &mut confirm);
    SessionKeys {
        to_server: ToServerKey(AeadKey::new(to_server)),
        to_device: ToDeviceKey(AeadKey::new(to_device)),
        confirmation: KeyConfirmation(confirm),
        reenrol,
    }
}

/// `"ilot-wire/v1 " ‖ label ‖ 0x00 ‖ patient id (16) ‖ device id (16)`.
pub(crate) fn key_info(label: &[u8], patient: PatientId, device: DeviceId) -> Vec<u8> {
    let mut info = Vec::with_capacity(INFO_PREFIX.len() + label.len() + 33);
    info.extend_from_slice(INFO_PREFIX);
    info.extend_from_slice(label);
    info.push(0);
    info.extend_from_slice(patient.as_bytes());
    info.extend_from_slice(device.as_bytes());
    info
}

/// An AES-256-GCM key with its expanded cipher kept ready, so sealing does not redo the key
/// schedule for every message. Both halves zeroize on drop (`aes-gcm`'s `zeroize` feature).
#[derive(Clone)]
struct AeadKey {
    bytes: Zeroizing<[u8; 32]>,
    cipher: Aes256Gcm,
}

impl AeadKey {
    fn new(bytes: Zeroizing<[u8; 32]>) -> Self {
        let cipher = Aes256Gcm::new(&(*bytes).into());
        Self { bytes, cipher }
    }
}

macro_rules! direction_key {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone)]
        pub struct $name(AeadKey);

        impl $name {
            /// Restores a key saved with [`Self::to_bytes`].
            pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> Self {
                Self(AeadKey::new(bytes))
            }

            /// The key's bytes, for the OS keyring (device) or the key store (server).
            pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
                self.0.bytes.clone()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl private::SealingKeyInner for $name {
            fn cipher(&self) -> &Aes256Gcm {
                &self.0.cipher
            }
        }

        impl SealingKey for $name {}
    };
}

direction_key!(
    /// Seals device → server messages ([`crate::OpenBatch`], [`crate::OpenPullRequest`]).
    ToServerKey
);
direction_key!(
    /// Seals server → device messages ([`crate::OpenPull`], [`crate::OpenAck`]).
    ToDeviceKey
);

/// A key of one direction. Sealed: only [`ToServerKey`] and [`ToDeviceKey`] implement it, and
/// each message type names the one it is sealed with, so a direction cannot be mixed up.
pub trait SealingKey: private::SealingKeyInner {}

pub(crate) mod private {
    pub trait SealingKeyInner {
        fn cipher(&self) -> &aes_gcm::Aes256Gcm;
    }
}

#[cfg(test)]
mod tests;
