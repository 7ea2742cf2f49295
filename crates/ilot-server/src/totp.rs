//! The operator's second factor: RFC 6238 time-based one-time codes with what every
//! authenticator app uses (HMAC-SHA-1, 6 digits, 30-second steps), through `totp-rs`.
//!
//! A code is accepted within one step either side of the server's clock, and the step it
//! matched is then stored so that the same code (or an older one) is never accepted twice.
//! Secrets never reach `Debug`, logs or errors: [`TotpSecret`] prints as `TotpSecret(..)` and
//! is wiped from memory when dropped.

use rand::RngCore;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

/// Seconds per step.
pub const STEP_S: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Issuer shown by authenticator apps.
pub const ISSUER: &str = "Ilot";

/// A shared TOTP secret (160 random bits, the RFC 4226 recommendation).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut b = vec![0u8; 20];
        rand::rng().fill_bytes(&mut b);
        Self(Zeroizing::new(b))
    }

    pub fn from_bytes(b: Vec<u8>) -> Self {
        Self(Zeroizing::new(b))
    }

    /// The secret from its base32 text (as printed by `ilot operator create-operator`); `None`
    /// when the text is not base32.
    pub fn from_base32(text: &str) -> Option<Self> {
        totp_rs::Secret::Encoded(text.trim().to_ascii_uppercase())
            .to_bytes()
            .ok()
            .filter(|b| !b.is_empty())
            .map(Self::from_bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as authenticator apps take it when typed (RFC 4648 base32, no padding).
    pub fn base32(&self) -> Zeroizing<String> {
        Zeroizing::new(self.totp("x").get_secret_base32())
    }

    /// The `otpauth://totp/…` URI to show as a QR code or paste in an authenticator app.
    pub fn uri(&self, account: &str) -> Zeroizing<String> {
        // A colon separates issuer and account in the label; keep it out of the account.
        Zeroizing::new(self.totp(&account.replace(':', "_")).get_url())
    }

    /// The code for the step that contains `unix_s` (what the app shows at that time).
    pub fn code_at(&self, unix_s: u64) -> Zeroizing<String> {
        Zeroizing::new(self.totp("x").generate(unix_s))
    }

    /// The step a code belongs to when it matches one step before, at or after `unix_s`.
    pub fn matching_step(&self, code: &str, unix_s: u64) -> Option<u64> {
        let code = code.trim();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = self.totp("x");
        let now = unix_s / STEP_S;
        // Earliest first, so that a code valid for two steps (it happens) records the older one
        // and the newer one stays usable for the next login.
        (now.saturating_sub(1)..=now + 1).find(|&step| t.check(code, step * STEP_S))
    }

    fn totp(&self, account: &str) -> TOTP {
        // `new_unchecked`: 20 bytes and 6 digits satisfy RFC 6238; the checked constructor
        // would only fail on an account name, which is ours.
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_S,
            self.0.to_vec(),
            Some(ISSUER.into()),
            account.into(),
        )
    }
}

/// The step of `unix_s`.
pub fn step_of(unix_s: u64) -> u64 {
    unix_s / STEP_S
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 test vectors (secret "12345678901234567890"), last 6 digits.
    #[test]
    fn rfc_6238_vectors() {
        let s = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(s.code_at(t).as_str(), code, "t = {t}");
        }
        assert_eq!(s.base32().as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::from_base32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq"),
            Some(s)
        );
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
    }

    #[test]
    fn one_step_either_side_and_no_further() {
        let s = TotpSecret::generate();
        let t = 1_800_000_000u64;
        let code = s.code_at(t);
        assert_eq!(s.matching_step(&code, t), Some(t / 30));
        assert_eq!(s.matching_step(&code, t + 30), Some(t / 30));
        assert_eq!(s.matching_step(&code, t - 30), Some(t / 30));
        assert_eq!(s.matching_step(&code, t + 60), None);
        assert_eq!(s.matching_step("12345", t), None);
        assert_eq!(s.matching_step("abcdef", t), None);
    }

    #[test]
    fn the_uri_is_what_apps_read_and_debug_hides_the_secret() {
        let s = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let uri = s.uri("drmartin");
        assert!(uri.starts_with("otpauth://totp/Ilot:drmartin?"), "{}", *uri);
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(uri.contains("issuer=Ilot"));
        assert_eq!(format!("{s:?}"), "TotpSecret(..)");
    }
}
