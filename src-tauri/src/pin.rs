//! The app-lock PIN: checked for shape, stored only as a salted Argon2id hash (PHC string), and
//! verified against it. The PIN itself is never stored, logged or put in an error.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub const MIN_DIGITS: usize = 4;
pub const MAX_DIGITS: usize = 8;

/// Refuses anything but 4–8 digits, and the most guessable codes.
pub fn check_shape(pin: &str) -> Result<()> {
    let n = pin.chars().count();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&n) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::input_with(
            "pin-shape",
            format!("the PIN must be {MIN_DIGITS} to {MAX_DIGITS} digits"),
            serde_json::json!({ "min": MIN_DIGITS, "max": MAX_DIGITS }),
        ));
    }
    let digits: Vec<u32> = pin.chars().filter_map(|c| c.to_digit(10)).collect();
    let same = digits.windows(2).all(|w| w[0] == w[1]);
    let up = digits.windows(2).all(|w| w[1] == (w[0] + 1) % 10);
    let down = digits.windows(2).all(|w| w[0] == (w[1] + 1) % 10);
    if same || up || down {
        return Err(Error::input(
            "pin-guessable",
            "this PIN is too easy to guess (repeated or consecutive digits); choose another",
        ));
    }
    Ok(())
}

/// The PHC string of a new salted hash of `pin`.
pub fn hash(pin: &str) -> Result<String> {
    check_shape(pin)?;
    let pin = Zeroizing::new(pin.as_bytes().to_vec());
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| Error::Io(format!("the PIN could not be protected: {e}")))?;
    Argon2::default()
        .hash_password(&pin, &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Io(format!("the PIN could not be protected: {e}")))
}

/// Whether `pin` matches the stored hash. A damaged hash matches nothing.
pub fn verify(pin: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("2580", true)]
    #[case("93715", true)]
    #[case("123", false)]
    #[case("123456789", false)]
    #[case("12a4", false)]
    #[case("1111", false)]
    #[case("1234", false)]
    #[case("4321", false)]
    #[case("7890", false)]
    fn shape(#[case] pin: &str, #[case] ok: bool) {
        assert_eq!(check_shape(pin).is_ok(), ok, "{pin}");
    }

    #[test]
    fn the_hash_is_salted_verifies_and_never_contains_the_pin() {
        let a = hash("2580").unwrap();
        let b = hash("2580").unwrap();
        assert_ne!(a, b, "two hashes of one PIN must differ (salt)");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert!(!a.contains("2580"));
        assert!(verify("2580", &a));
        assert!(!verify("2581", &a));
        assert!(!verify("2580", "not a hash"));
    }
}
