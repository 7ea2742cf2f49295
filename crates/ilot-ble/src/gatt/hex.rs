//! Hex input as people paste it from a sniffer or nRF Connect: `7EB0`, `7e b0`, `7E-B0`,
//! `0x7e,0xb0`.

use crate::error::DecodeError;

/// Bytes from hex text; separators (space, `-`, `:`, `,`) and `0x` prefixes are ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, DecodeError> {
    let mut digits = String::with_capacity(text.len());
    let lower = text.trim().to_ascii_lowercase().replace("0x", "");
    for c in lower.chars() {
        match c {
            '0'..='9' | 'a'..='f' => digits.push(c),
            ' ' | '-' | ':' | ',' | '\t' | '\n' => {}
            _ => {
                return Err(DecodeError::Input(format!(
                    "{c:?} is not a hex digit; give the frame as hex bytes, e.g. 1b0100ea07"
                )));
            }
        }
    }
    if !digits.len().is_multiple_of(2) {
        return Err(DecodeError::Input(format!(
            "odd number of hex digits ({}); every byte needs two digits",
            digits.len()
        )));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|e| DecodeError::Input(format!("bad hex byte {}: {e}", &digits[i..i + 2])))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_spellings() {
        for t in ["7EB0", "7e b0", "7E-B0", "0x7e,0xb0", "7e:b0"] {
            assert_eq!(parse_hex(t).unwrap(), vec![0x7e, 0xb0], "{t}");
        }
    }

    #[test]
    fn refuses_odd_and_non_hex() {
        assert!(parse_hex("7eb").is_err());
        assert!(parse_hex("zz").is_err());
    }
}
