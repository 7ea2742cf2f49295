//! Operator credentials: argon2id password hashes, random session tokens of which only the
//! SHA-256 is stored (a leaked database gives no usable token), and the bearer check.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Result, ServerError};

pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < 12 {
        return Err(ServerError::refused(
            ilot_wire::api::ErrorCode::BadRequest,
            "the password must have at least 12 characters",
        ));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServerError::Storage(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Storage(format!("password hashing: {e}")))
}

/// The longest user name an operator may have; a longer one is refused before any work.
pub const MAX_USERNAME_CHARS: usize = 64;

/// Refuses a user name longer than [`MAX_USERNAME_CHARS`] (or empty).
pub fn check_username(username: &str) -> Result<()> {
    let n = username.chars().count();
    if n == 0 || n > MAX_USERNAME_CHARS {
        return Err(ServerError::refused(
            ilot_wire::api::ErrorCode::BadRequest,
            format!("a user name has 1 to {MAX_USERNAME_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Bounds the Argon2 work running at once (each verification holds ~19 MiB and a core): a
/// flood of logins waits here, in order, instead of taking all memory; past `wait` the login
/// is answered 503. Also counts the verifications done, which tests use to see how many
/// guesses were evaluated.
#[derive(Debug)]
pub struct PasswordGate {
    slots: Arc<Semaphore>,
    wait: Duration,
    checks: AtomicU64,
}

impl PasswordGate {
    pub fn new(slots: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            wait,
            checks: AtomicU64::new(0),
        }
    }

    /// A slot for one verification, or `None` when none freed up within the wait.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// [`verify_password`], counted; call it while holding a [`PasswordGate::slot`].
    pub fn verify(&self, _slot: &OwnedSemaphorePermit, password: &str, phc: &str) -> bool {
        self.checks.fetch_add(1, Ordering::Relaxed);
        verify_password(password, phc)
    }

    /// How many passwords this node verified since it started.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new session token (64 hex digits) and the hash to store.
pub fn new_token() -> (String, [u8; 32]) {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    let token = hex::encode(b);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(hash_password("short").is_err());
    }
}
