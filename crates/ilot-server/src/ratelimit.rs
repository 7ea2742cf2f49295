//! Fixed-window counters that refuse guessing: operator passwords and codes, and enrolment codes
//! (45 random bits; a bounded number of attempts per client network and per code prefix keeps
//! brute force hopeless).
//!
//! The counters are in the database, shared by every API node, and an attempt is counted and
//! checked in one transaction *before* any work is done for it: of 40 guesses sent at once, only
//! the limit's worth is evaluated, whichever node they reach. What is stored is a SHA-256 of what
//! is counted (kind + user name, kind + client network), so neither a user name nor an address
//! is kept, and a long name costs no more than a short one. Closed windows are deleted before
//! every count, so the table holds only the open ones.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::http::AppState;

/// How many attempts a key may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub attempts: u32,
    pub window: Duration,
}

/// One counter: the SHA-256 of its kind and value, and its limit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RateKey {
    pub hash: [u8; 32],
    pub limit: Limit,
}

impl std::fmt::Debug for RateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateKey")
            .field("hash", &hex::encode(&self.hash[..6]))
            .field("limit", &self.limit)
            .finish()
    }
}

impl RateKey {
    /// The counter of `value` (a user name, a client network, a code prefix) for `kind`.
    pub fn new(kind: &str, value: &[u8], limit: Limit) -> Self {
        let mut h = Sha256::new();
        h.update(kind.as_bytes());
        h.update([0]);
        h.update(value);
        Self {
            hash: h.finalize().into(),
            limit,
        }
    }

    pub fn window_ms(&self) -> i64 {
        i64::try_from(self.limit.window.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Counts one attempt against every key, unless one of them already used up its attempts: then
/// nothing is counted and the answer is `Err(seconds to wait)`. Atomic across nodes.
pub(crate) async fn count(state: &AppState, keys: Vec<RateKey>) -> Result<Result<(), u64>> {
    state
        .blocking(move |s| {
            Ok(match s.storage().count_attempt(&keys, s.now())? {
                None => Ok(()),
                Some(wait) => Err(wait),
            })
        })
        .await
}

/// Takes back one counted attempt (it turned out not to be a guess).
pub(crate) async fn forgive(state: &AppState, keys: Vec<RateKey>) -> Result<()> {
    state
        .blocking(move |s| s.storage().forgive_attempt(&keys, s.now()))
        .await
}

/// The seconds left in a window that ends at `expires_ms`, at least one.
pub(crate) fn wait_seconds(expires_ms: i64, now_ms: i64) -> u64 {
    let left = expires_ms.saturating_sub(now_ms).max(0) as u64;
    left.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hash_kind_and_value_apart() {
        let l = Limit {
            attempts: 3,
            window: Duration::from_secs(60),
        };
        let a = RateKey::new("login-user", b"dr", l);
        assert_eq!(a, RateKey::new("login-user", b"dr", l));
        assert_ne!(a.hash, RateKey::new("login-ip", b"dr", l).hash);
        assert_ne!(a.hash, RateKey::new("login-user", b"dR", l).hash);
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            RateKey::new("ab", b"c", l).hash,
            RateKey::new("a", b"bc", l).hash
        );
        assert!(!format!("{a:?}").contains("dr\""), "{a:?}");
        assert_eq!(a.window_ms(), 60_000);
    }

    #[test]
    fn the_wait_is_rounded_up_to_whole_seconds() {
        assert_eq!(wait_seconds(10_000, 0), 10);
        assert_eq!(wait_seconds(10_001, 0), 11);
        assert_eq!(wait_seconds(10_000, 9_999), 1);
        assert_eq!(wait_seconds(10_000, 20_000), 1);
    }
}
