//! The server key: 32 random bytes kept outside the database (OS keyring, a `0600` key file, or
//! `ILOT_SERVER_KEY` for containers) that seals what a stolen database must not give away.
//!
//! - The server's X25519 secret and every operator's TOTP secret are stored sealed with
//!   AES-256-GCM (random 96-bit nonce, associated data naming what the value is and, for a TOTP
//!   secret, whose it is, so that sealed values cannot be swapped between rows).
//! - Enrolment codes are stored as HMAC-SHA-256 under a key derived from the server key. A code
//!   has 45 random bits: a plain SHA-256 of one is found by trying every code in about an hour
//!   on one GPU, a keyed hash cannot be tried without the key.
//! - A check value (an HMAC of a fixed label) is stored beside them, so that a wrong key is
//!   refused when the database opens, before anything is read or written, instead of being
//!   taken for a new deployment (which would make a new server identity and orphan every
//!   enrolled device).
//!
//! The three keys are derived from the server key with HKDF-SHA-256, one per use. Key bytes
//! never reach `Debug`, logs or errors, and are wiped from memory on drop.

use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use ilot_wire::ServerSecret;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Result, ServerError};

/// The environment variable that gives the server key (64 hex digits or 32 bytes in base64),
/// for containers and for PostgreSQL deployments whose nodes must all share it.
pub const KEY_ENV: &str = "ILOT_SERVER_KEY";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
/// First byte of every sealed value: the format, so that a later one can be told apart.
const SEALED_V1: u8 = 1;

/// What a sealed value is; part of the associated data.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sealed {
    ServerSecret,
    Totp { operator_id: i64 },
}

impl Sealed {
    fn aad(self) -> Vec<u8> {
        match self {
            Self::ServerSecret => b"ilot server secret v1".to_vec(),
            Self::Totp { operator_id } => {
                format!("ilot totp secret v1 operator {operator_id}").into_bytes()
            }
        }
    }
}

/// The key that seals the server's secrets at rest. Shows as `ServerKey(..)`.
#[derive(Clone)]
pub struct ServerKey {
    cipher: Aes256Gcm,
    code_key: Zeroizing<[u8; KEY_LEN]>,
    check: [u8; KEY_LEN],
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

impl ServerKey {
    /// A new random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(k.as_mut());
        Self::from_bytes(&k)
    }

    /// The key of these bytes (from the keyring, a key file or [`KEY_ENV`]).
    pub fn from_bytes(bytes: &Zeroizing<[u8; KEY_LEN]>) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"ilot server key v1"), bytes.as_ref());
        let mut seal = Zeroizing::new([0u8; KEY_LEN]);
        let mut code_key = Zeroizing::new([0u8; KEY_LEN]);
        let mut check = [0u8; KEY_LEN];
        // 32-byte outputs are far below HKDF-SHA-256's limit (255 × 32 bytes): cannot fail.
        let expand = |info: &[u8], out: &mut [u8]| {
            hk.expand(info, out)
                .unwrap_or_else(|_| unreachable!("HKDF output of 32 bytes"));
        };
        expand(b"seal", seal.as_mut());
        expand(b"enrolment code", code_key.as_mut());
        expand(b"check", &mut check);
        Self {
            cipher: Aes256Gcm::new(&(*seal).into()),
            code_key,
            check,
        }
    }

    /// Reads a key given as text ([`KEY_ENV`]): 64 hexadecimal digits or the base64 (standard
    /// or URL-safe, padded or not) of 32 bytes. The error never repeats the text.
    pub fn parse(text: &str) -> Result<Self> {
        use base64::Engine;
        let text = text.trim();
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        if text.len() == 2 * KEY_LEN && hex::decode_to_slice(text, k.as_mut()).is_ok() {
            return Ok(Self::from_bytes(&k));
        }
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for e in engines {
            if let Ok(bytes) = e.decode(text) {
                let bytes = Zeroizing::new(bytes);
                if bytes.len() == KEY_LEN {
                    k.copy_from_slice(&bytes);
                    return Ok(Self::from_bytes(&k));
                }
            }
        }
        Err(ServerError::Key(format!(
            "{KEY_ENV} is not a server key: give 64 hexadecimal digits or the base64 of 32 bytes (e.g. `openssl rand -hex 32`)"
        )))
    }

    /// `plain` sealed as `1 ‖ nonce ‖ ciphertext ‖ tag`.
    pub(crate) fn seal(&self, what: Sealed, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = what.aad();
        let ct = self
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| ServerError::Key("a secret could not be sealed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// The value [`Self::seal`] sealed; a wrong key, a value of another row or altered bytes
    /// are an error naming what could not be opened.
    pub(crate) fn open(&self, what: Sealed, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let refused = || {
            ServerError::Key(format!(
                "the {} in the database cannot be opened with this server key: the key is not this database's, or the value was altered",
                match what {
                    Sealed::ServerSecret => "server's secret key".to_string(),
                    Sealed::Totp { operator_id } =>
                        format!("TOTP secret of operator {operator_id}"),
                }
            ))
        };
        let Some((&SEALED_V1, rest)) = sealed.split_first() else {
            return Err(refused());
        };
        if rest.len() < NONCE_LEN {
            return Err(refused());
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| refused())?;
        let aad = what.aad();
        self.cipher
            .decrypt(&nonce.into(), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| refused())
    }

    /// What an enrolment code is stored and looked up as: 64 hex digits of its keyed hash.
    pub(crate) fn code_hash(&self, canonical_code: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.code_key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(canonical_code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The value stored to recognise this key.
    pub(crate) fn check_value(&self) -> [u8; KEY_LEN] {
        self.check
    }

    /// Whether `stored` is this key's check value.
    pub(crate) fn checks(&self, stored: &[u8]) -> bool {
        // Compared once when the database opens: no timing oracle anybody could query.
        stored == self.check.as_slice()
    }

    /// The error for a database whose check value is not this key's.
    pub(crate) fn wrong_key() -> ServerError {
        ServerError::Key(
            "this server key does not open the database's secrets: it is not the key the database was made with; restore that key (keyring entry, key file or ILOT_SERVER_KEY) — a new key would make a new server identity that no enrolled device trusts".into(),
        )
    }
}

/// The server secret stored as `sealed`.
pub(crate) fn open_server_secret(key: &ServerKey, sealed: &[u8]) -> Result<ServerSecret> {
    let plain = key.open(Sealed::ServerSecret, sealed)?;
    let arr: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| {
        ServerError::Storage("the stored server secret has the wrong length".into())
    })?;
    Ok(ServerSecret::from_bytes(Zeroizing::new(arr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let k = ServerKey::generate();
        let s = k
            .seal(Sealed::Totp { operator_id: 1 }, b"twenty byte secret!!")
            .unwrap();
        assert_eq!(
            k.open(Sealed::Totp { operator_id: 1 }, &s)
                .unwrap()
                .as_slice(),
            b"twenty byte secret!!"
        );
        assert!(
            k.open(Sealed::Totp { operator_id: 2 }, &s).is_err(),
            "another row"
        );
        assert!(k.open(Sealed::ServerSecret, &s).is_err(), "another kind");
        assert!(
            ServerKey::generate()
                .open(Sealed::Totp { operator_id: 1 }, &s)
                .is_err()
        );
        let mut t = s.clone();
        *t.last_mut().unwrap() ^= 1;
        assert!(
            k.open(Sealed::Totp { operator_id: 1 }, &t).is_err(),
            "altered"
        );
        assert!(!s.windows(20).any(|w| w == b"twenty byte secret!!"));
    }

    #[test]
    fn keys_parse_from_hex_and_base64_and_are_never_shown() {
        let hex = "00".repeat(31) + "01";
        let a = ServerKey::parse(&hex).unwrap();
        let b = ServerKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=").unwrap();
        assert_eq!(a.check_value(), b.check_value());
        assert_eq!(a.code_hash("ABCDEFGHJK"), b.code_hash("ABCDEFGHJK"));
        assert_ne!(a.code_hash("ABCDEFGHJK"), a.code_hash("ABCDEFGHJM"));
        let e = ServerKey::parse("not-a-key-0123456789")
            .unwrap_err()
            .to_string();
        assert!(e.contains(KEY_ENV) && !e.contains("not-a-key"), "{e}");
        assert_eq!(format!("{a:?}"), "ServerKey(..)");
    }
}
