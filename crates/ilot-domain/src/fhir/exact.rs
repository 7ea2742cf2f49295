//! Exact decimal glucose conversion for the FHIR export: the ANS profile wants mg/dL, patients
//! give g/L or mmol/L, and a medical value is never rounded. The given value is read back as the
//! decimal it was typed as (Rust prints the shortest decimal that round-trips an `f64`), multiplied
//! in decimal arithmetic (`rust_decimal`) by the exact factor (100, or SPEC §3's 18.016), and
//! written as a JSON number whose text is that decimal: `6.1 mmol/L` becomes `109.8976`, not
//! `109.89759999999998`.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Number, Value};

use crate::GlucoseUnit;
use crate::error::{DomainError, Result};

/// The given value as the decimal it was written as.
fn given(value: f64) -> Result<Decimal> {
    Decimal::from_str_exact(&value.to_string()).map_err(|_| inexact(value, "read"))
}

fn inexact(value: f64, what: &str) -> DomainError {
    DomainError::Export(format!(
        "the glucose {value} cannot be {what} exactly as a decimal; nothing was exported"
    ))
}

/// `value` in `unit` converted to mg/dL, as an exact decimal.
pub fn mg_dl(value: f64, unit: GlucoseUnit) -> Result<Decimal> {
    let factor = match unit {
        GlucoseUnit::MgPerDl => Decimal::ONE,
        GlucoseUnit::GramsPerLitre => Decimal::ONE_HUNDRED,
        // 18.016 (SPEC §3), the same factor `Glucose::mg_dl` uses.
        GlucoseUnit::MmolPerLitre => Decimal::new(18_016, 3),
    };
    given(value)?
        .checked_mul(factor)
        .map(|d| d.normalize())
        .ok_or_else(|| inexact(value, "converted"))
}

/// A JSON number whose text is exactly `d` (an integer when `d` has no fraction). Refused when an
/// `f64` cannot carry that decimal (more than 15 significant digits): never a rounded number.
pub fn number(d: Decimal) -> Result<Value> {
    let d = d.normalize();
    let text = d.to_string();
    if d.fract().is_zero()
        && let Ok(i) = i64::from_str(&text)
    {
        return Ok(Value::Number(i.into()));
    }
    let f =
        f64::from_str(&text).map_err(|_| DomainError::Export(format!("{text} is no number")))?;
    // The shortest decimal that round-trips `f` (what serde_json writes) must be our decimal.
    match Number::from_f64(f) {
        Some(n) if Decimal::from_str_exact(&f.to_string()).ok() == Some(d) => Ok(Value::Number(n)),
        _ => Err(DomainError::Export(format!(
            "{text} cannot be written exactly as a JSON number; nothing was exported"
        ))),
    }
}

/// The value as given, as an exact JSON number.
pub fn as_given(value: f64) -> Result<Value> {
    number(given(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(v: f64, u: GlucoseUnit) -> String {
        serde_json::to_string(&number(mg_dl(v, u).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn conversions_are_exact_decimals_never_rounded() {
        assert_eq!(text(5.5, GlucoseUnit::MmolPerLitre), "99.088");
        assert_eq!(text(6.1, GlucoseUnit::MmolPerLitre), "109.8976");
        // In binary floating point these products are 109.89759999999998 and 125.49999999999999.
        assert_ne!((6.1_f64 * 18.016).to_string(), "109.8976");
        assert_ne!((1.255_f64 * 100.0).to_string(), "125.5");
        assert_eq!(text(1.26, GlucoseUnit::GramsPerLitre), "126");
        assert_eq!(text(0.07, GlucoseUnit::GramsPerLitre), "7");
        assert_eq!(text(1.255, GlucoseUnit::GramsPerLitre), "125.5");
        assert_eq!(text(7.3, GlucoseUnit::MmolPerLitre), "131.5168");
        assert_eq!(text(185.4, GlucoseUnit::MgPerDl), "185.4");
        assert_eq!(text(33.3, GlucoseUnit::MmolPerLitre), "599.9328");
    }

    #[test]
    fn a_value_too_precise_for_a_json_number_is_refused_not_rounded() {
        // 17 significant digits times 18.016 needs 21: no f64 carries that decimal.
        let v = 5.123_456_789_012_345;
        let err = number(mg_dl(v, GlucoseUnit::MmolPerLitre).unwrap()).unwrap_err();
        assert!(err.to_string().contains("exactly"), "{err}");
    }

    proptest! {
        /// Any value typed with up to 3 decimals converts to a JSON number whose text is the
        /// exact product, digit for digit.
        #[test]
        fn typed_values_convert_exactly(thousandths in 1u32..40_000, mmol in any::<bool>()) {
            let (unit, factor) = if mmol {
                (GlucoseUnit::MmolPerLitre, Decimal::new(18_016, 3))
            } else {
                (GlucoseUnit::GramsPerLitre, Decimal::ONE_HUNDRED)
            };
            let typed = Decimal::new(i64::from(thousandths), 3);
            let v: f64 = typed.to_string().parse().unwrap();
            let json = serde_json::to_string(&number(mg_dl(v, unit).unwrap()).unwrap()).unwrap();
            let expected = (typed * factor).normalize().to_string();
            prop_assert_eq!(json.trim_end_matches(".0"), expected);
        }
    }
}
