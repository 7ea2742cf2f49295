//! IEEE 11073-20601 SFLOAT (16-bit) and FLOAT (32-bit): a signed decimal exponent and a signed
//! mantissa in two's complement, value = mantissa × 10^exponent.
//!
//! The five special values (NaN, NRes, ±INF, reserved) are defined with exponent 0 and are kept
//! as [`Special`], never turned into a number. Conversions shift the decimal exponent exactly
//! (`mantissa × 10^(exponent + shift)` computed as one correctly rounded multiplication or
//! division), so 0x B07E (126 × 10⁻⁵ kg/L) is exactly 126 mg/dL, not 126.00000000000001.

use std::fmt;

use crate::error::DecodeError;

/// The IEEE 11073-20601 special values (§ 2.2.7/2.2.8 "reserved values").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Special {
    /// Not a Number: the device has no valid value.
    NaN,
    /// Not at this Resolution: the value cannot be represented with this precision.
    NRes,
    PlusInfinity,
    MinusInfinity,
    /// Reserved for future use by IEEE 11073.
    Reserved,
}

impl Special {
    /// The spelling used in `ilot ble decode` output.
    pub fn name(self) -> &'static str {
        match self {
            Self::NaN => "nan",
            Self::NRes => "nres",
            Self::PlusInfinity => "+inf",
            Self::MinusInfinity => "-inf",
            Self::Reserved => "reserved",
        }
    }
}

/// A decimal number as the device sent it, or a special value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SFloat {
    Value { mantissa: i16, exponent: i8 },
    Special(Special),
}

const SPECIALS_16: [(u16, Special); 5] = [
    (0x07FF, Special::NaN),
    (0x0800, Special::NRes),
    (0x07FE, Special::PlusInfinity),
    (0x0802, Special::MinusInfinity),
    (0x0801, Special::Reserved),
];

impl SFloat {
    pub fn from_raw(raw: u16) -> Self {
        if let Some((_, s)) = SPECIALS_16.iter().find(|(r, _)| *r == raw) {
            return Self::Special(*s);
        }
        let exponent = sign_extend(u32::from(raw >> 12), 4) as i8;
        let mantissa = sign_extend(u32::from(raw & 0x0FFF), 12) as i16;
        Self::Value { mantissa, exponent }
    }

    pub fn to_raw(self) -> u16 {
        match self {
            Self::Value { mantissa, exponent } => {
                ((exponent as u16 & 0x0F) << 12) | (mantissa as u16 & 0x0FFF)
            }
            Self::Special(s) => SPECIALS_16
                .iter()
                .find(|(_, x)| *x == s)
                .map_or(0x07FF, |(r, _)| *r),
        }
    }

    /// Builds a value, refusing a mantissa or exponent SFLOAT cannot hold or one that would read
    /// back as a special value.
    pub fn new(mantissa: i16, exponent: i8) -> Result<Self, DecodeError> {
        if !(-2048..=2047).contains(&mantissa) || !(-8..=7).contains(&exponent) {
            return Err(DecodeError::Input(format!(
                "{mantissa}e{exponent} does not fit an SFLOAT (mantissa −2048…2047, exponent −8…7)"
            )));
        }
        let v = Self::Value { mantissa, exponent };
        if Self::from_raw(v.to_raw()) != v {
            return Err(DecodeError::Input(format!(
                "{mantissa}e{exponent} collides with an SFLOAT special value; use another exponent"
            )));
        }
        Ok(v)
    }

    pub fn special(self) -> Option<Special> {
        match self {
            Self::Special(s) => Some(s),
            Self::Value { .. } => None,
        }
    }

    /// The number, or `None` for a special value.
    pub fn value(self) -> Option<f64> {
        self.scaled(0)
    }

    /// The number × 10^`shift`, computed exactly from the decimal digits (see the module doc).
    pub fn scaled(self, shift: i32) -> Option<f64> {
        match self {
            Self::Value { mantissa, exponent } => {
                Some(decimal(i64::from(mantissa), i32::from(exponent) + shift))
            }
            Self::Special(_) => None,
        }
    }
}

impl fmt::Display for SFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value { mantissa, exponent } => write!(f, "{mantissa}e{exponent}"),
            Self::Special(s) => f.write_str(s.name()),
        }
    }
}

/// IEEE 11073-20601 FLOAT: 8-bit exponent, 24-bit mantissa. Not used by GLS/CGMS records but by
/// other health characteristics that share the decoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Float32 {
    Value { mantissa: i32, exponent: i8 },
    Special(Special),
}

const SPECIALS_32: [(u32, Special); 5] = [
    (0x007F_FFFF, Special::NaN),
    (0x0080_0000, Special::NRes),
    (0x007F_FFFE, Special::PlusInfinity),
    (0x0080_0002, Special::MinusInfinity),
    (0x0080_0001, Special::Reserved),
];

impl Float32 {
    pub fn from_raw(raw: u32) -> Self {
        if let Some((_, s)) = SPECIALS_32.iter().find(|(r, _)| *r == raw) {
            return Self::Special(*s);
        }
        let exponent = (raw >> 24) as u8 as i8;
        let mantissa = sign_extend(raw & 0x00FF_FFFF, 24);
        Self::Value { mantissa, exponent }
    }

    pub fn to_raw(self) -> u32 {
        match self {
            Self::Value { mantissa, exponent } => {
                (u32::from(exponent as u8) << 24) | (mantissa as u32 & 0x00FF_FFFF)
            }
            Self::Special(s) => SPECIALS_32
                .iter()
                .find(|(_, x)| *x == s)
                .map_or(0x007F_FFFF, |(r, _)| *r),
        }
    }

    pub fn value(self) -> Option<f64> {
        match self {
            Self::Value { mantissa, exponent } => {
                Some(decimal(i64::from(mantissa), i32::from(exponent)))
            }
            Self::Special(_) => None,
        }
    }
}

fn sign_extend(v: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((v << shift) as i32) >> shift
}

/// `m × 10^e` as the nearest f64: 10^|e| is exact in f64 up to 10^22, and one IEEE
/// multiplication or division of exact operands is correctly rounded.
fn decimal(m: i64, e: i32) -> f64 {
    let m = m as f64;
    if e >= 0 {
        m * 10f64.powi(e)
    } else {
        m / 10f64.powi(-e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    // IEEE 11073-20601 special values and ordinary values built from the definition.
    #[rstest]
    #[case(0x07FF, SFloat::Special(Special::NaN))]
    #[case(0x0800, SFloat::Special(Special::NRes))]
    #[case(0x07FE, SFloat::Special(Special::PlusInfinity))]
    #[case(0x0802, SFloat::Special(Special::MinusInfinity))]
    #[case(0x0801, SFloat::Special(Special::Reserved))]
    #[case(0xB07E, SFloat::Value { mantissa: 126, exponent: -5 })]
    #[case(0x0FFF, SFloat::Value { mantissa: -1, exponent: 0 })]
    #[case(0x17FF, SFloat::Value { mantissa: 2047, exponent: 1 })]
    #[case(0x8800, SFloat::Value { mantissa: -2048, exponent: -8 })]
    fn decodes_raw(#[case] raw: u16, #[case] v: SFloat) {
        assert_eq!(SFloat::from_raw(raw), v);
        assert_eq!(v.to_raw(), raw);
    }

    // 126 × 10⁻⁵ kg/L = 126 mg/dL; 70 × 10⁻⁴ mol/L = 7.0 mmol/L (shift 3) or 700 (shift 5).
    #[rstest]
    #[case(0xB07E, 5, 126.0)]
    #[case(0xC046, 3, 7.0)]
    #[case(0xC046, 5, 700.0)]
    #[case(0x0002, -1, 0.2)]
    fn scaling_is_exact(#[case] raw: u16, #[case] shift: i32, #[case] expected: f64) {
        assert_eq!(SFloat::from_raw(raw).scaled(shift), Some(expected));
    }

    #[test]
    fn mmol_shift_gives_the_written_decimal() {
        // 7.2 mmol/L sent as 72 × 10⁻⁴ mol/L (0xC048): × 10³ must be exactly 7.2.
        assert_eq!(SFloat::from_raw(0xC048).scaled(3), Some(7.2));
    }

    #[test]
    fn new_refuses_what_does_not_fit() {
        assert!(SFloat::new(2048, 0).is_err());
        assert!(SFloat::new(1, 8).is_err());
        assert!(SFloat::new(2047, 0).is_err(), "0x07FF is NaN");
        assert!(SFloat::new(2047, 1).is_ok());
    }

    #[rstest]
    #[case(0x007F_FFFF, Float32::Special(Special::NaN))]
    #[case(0x0080_0000, Float32::Special(Special::NRes))]
    #[case(0x007F_FFFE, Float32::Special(Special::PlusInfinity))]
    #[case(0x0080_0002, Float32::Special(Special::MinusInfinity))]
    #[case(0x0080_0001, Float32::Special(Special::Reserved))]
    #[case(0xFE00_04D2, Float32::Value { mantissa: 1234, exponent: -2 })]
    #[case(0x01FF_FFFF, Float32::Value { mantissa: -1, exponent: 1 })]
    fn float32(#[case] raw: u32, #[case] v: Float32) {
        assert_eq!(Float32::from_raw(raw), v);
        assert_eq!(v.to_raw(), raw);
    }

    #[test]
    fn float32_value() {
        assert_eq!(Float32::from_raw(0xFE00_04D2).value(), Some(12.34));
    }

    proptest::proptest! {
        #[test]
        fn every_raw_sfloat_round_trips(raw: u16) {
            proptest::prop_assert_eq!(SFloat::from_raw(raw).to_raw(), raw);
        }
    }
}
