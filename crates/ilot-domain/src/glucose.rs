//! Glucose values, their units and the exact conversions between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};

/// 1 g/L = 100 mg/dL.
pub const MG_DL_PER_G_L: f64 = 100.0;
/// 1 mmol/L = 18.016 mg/dL (glucose 180.16 g/mol), as SPEC §3 fixes it.
pub const MG_DL_PER_MMOL_L: f64 = 18.016;

/// Physically plausible range for a glucose reading (SPEC §3); outside it a meter says LO/HI.
const PLAUSIBLE_MG_DL: (f64, f64) = (10.0, 600.0);

/// The three units French patients meet. g/L is the French default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GlucoseUnit {
    #[serde(rename = "g/L")]
    GramsPerLitre,
    #[serde(rename = "mg/dL")]
    MgPerDl,
    #[serde(rename = "mmol/L")]
    MmolPerLitre,
}

impl GlucoseUnit {
    pub const ALL: [GlucoseUnit; 3] = [Self::GramsPerLitre, Self::MgPerDl, Self::MmolPerLitre];

    /// Canonical spelling, as shown to people and stored.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::GramsPerLitre => "g/L",
            Self::MgPerDl => "mg/dL",
            Self::MmolPerLitre => "mmol/L",
        }
    }

    fn mg_dl_per_unit(self) -> f64 {
        match self {
            Self::GramsPerLitre => MG_DL_PER_G_L,
            Self::MgPerDl => 1.0,
            Self::MmolPerLitre => MG_DL_PER_MMOL_L,
        }
    }

    /// Decimals used for display in this unit: 1,26 g/L, 126 mg/dL, 7.0 mmol/L.
    pub fn display_decimals(self) -> usize {
        match self {
            Self::GramsPerLitre => 2,
            Self::MgPerDl => 0,
            Self::MmolPerLitre => 1,
        }
    }

    /// Stable small integer used by the store.
    pub fn code(self) -> u8 {
        match self {
            Self::GramsPerLitre => 1,
            Self::MgPerDl => 2,
            Self::MmolPerLitre => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.code() == code)
    }
}

impl FromStr for GlucoseUnit {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "g/l" | "gl" => Ok(Self::GramsPerLitre),
            "mg/dl" | "mgdl" => Ok(Self::MgPerDl),
            "mmol/l" | "mmol" | "mmoll" => Ok(Self::MmolPerLitre),
            _ => Err(DomainError::UnknownUnit(s.to_string())),
        }
    }
}

impl fmt::Display for GlucoseUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A glucose concentration, kept exactly as given (value + unit) and readable in mg/dL.
///
/// The canonical mg/dL is the given value times the unit factor, with binary floating-point
/// representation noise removed at 1e-6 mg/dL so that 1.80 g/L is exactly 180 mg/dL (and counts
/// as in range, TIR bounds being inclusive). That is far below any meter's resolution; no
/// clinical rounding ever happens on stored values, only when formatting for display.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Glucose {
    value: f64,
    unit: GlucoseUnit,
}

impl Glucose {
    /// Builds a glucose value, rejecting what cannot be a human glucose (10–600 mg/dL).
    pub fn new(value: f64, unit: GlucoseUnit) -> Result<Self> {
        if !value.is_finite() {
            return Err(DomainError::NotANumber {
                what: "glucose",
                got: value.to_string(),
            });
        }
        let g = Self { value, unit };
        let mg_dl = g.mg_dl();
        if !(PLAUSIBLE_MG_DL.0..=PLAUSIBLE_MG_DL.1).contains(&mg_dl) {
            let given = if unit == GlucoseUnit::MgPerDl {
                format!("{value} mg/dL")
            } else {
                format!("{value} {unit} ({mg_dl} mg/dL)")
            };
            return Err(DomainError::ImplausibleGlucose { given });
        }
        Ok(g)
    }

    pub fn from_mg_dl(mg_dl: f64) -> Result<Self> {
        Self::new(mg_dl, GlucoseUnit::MgPerDl)
    }

    /// Parses a value as a person types it: `1,26` or `1.26`.
    pub fn parse(value: &str, unit: GlucoseUnit) -> Result<Self> {
        Self::new(parse_decimal("glucose", value)?, unit)
    }

    /// The value as given, in [`Self::unit`].
    pub fn value(self) -> f64 {
        self.value
    }

    pub fn unit(self) -> GlucoseUnit {
        self.unit
    }

    /// Canonical mg/dL (see the type's documentation for the representation-noise cleanup).
    pub fn mg_dl(self) -> f64 {
        clean(self.value * self.unit.mg_dl_per_unit())
    }

    /// The value in another unit, unrounded.
    pub fn in_unit(self, unit: GlucoseUnit) -> f64 {
        if unit == self.unit {
            self.value
        } else {
            self.mg_dl() / unit.mg_dl_per_unit()
        }
    }

    /// Display text in `unit` with that unit's usual decimals; `decimal_comma` for French.
    pub fn format(self, unit: GlucoseUnit, decimal_comma: bool) -> String {
        format_number(self.in_unit(unit), unit.display_decimals(), decimal_comma)
    }
}

/// A glucose result as a meter reports it: a number, or LO/HI beyond the meter's own range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "level", content = "glucose", rename_all = "lowercase")]
pub enum GlucoseLevel {
    Value(Glucose),
    /// Below the meter's measuring range ("LO"). Treated as very low by the rules.
    Lo,
    /// Above the meter's measuring range ("HI"). Treated as very high by the rules.
    Hi,
}

impl GlucoseLevel {
    /// Parses `1,26`, `126`, `LO` or `HI` in `unit`.
    pub fn parse(value: &str, unit: GlucoseUnit) -> Result<Self> {
        match value.trim().to_ascii_uppercase().as_str() {
            "LO" | "LOW" => Ok(Self::Lo),
            "HI" | "HIGH" => Ok(Self::Hi),
            _ => Glucose::parse(value, unit).map(Self::Value),
        }
    }

    pub fn mg_dl(self) -> Option<f64> {
        match self {
            Self::Value(g) => Some(g.mg_dl()),
            Self::Lo | Self::Hi => None,
        }
    }
}

/// Parses a decimal number written with a point or a French comma.
pub(crate) fn parse_decimal(what: &'static str, text: &str) -> Result<f64> {
    let t = text.trim().replace(',', ".");
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(DomainError::NotANumber {
            what,
            got: text.to_string(),
        }),
    }
}

fn clean(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Formats a number for display only (never for storage).
pub(crate) fn format_number(v: f64, decimals: usize, decimal_comma: bool) -> String {
    let s = format!("{v:.decimals$}");
    if decimal_comma {
        s.replace('.', ",")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(1.26, GlucoseUnit::GramsPerLitre, 126.0)]
    #[case(1.80, GlucoseUnit::GramsPerLitre, 180.0)]
    #[case(0.7, GlucoseUnit::GramsPerLitre, 70.0)]
    #[case(10.0, GlucoseUnit::MmolPerLitre, 180.16)]
    #[case(5.5, GlucoseUnit::MmolPerLitre, 99.088)]
    #[case(126.0, GlucoseUnit::MgPerDl, 126.0)]
    fn converts_exactly(#[case] v: f64, #[case] unit: GlucoseUnit, #[case] mg_dl: f64) {
        assert_eq!(Glucose::new(v, unit).unwrap().mg_dl(), mg_dl);
    }

    #[rstest]
    #[case(
        "1,26",
        GlucoseUnit::GramsPerLitre,
        GlucoseUnit::GramsPerLitre,
        true,
        "1,26"
    )]
    #[case("1.26", GlucoseUnit::GramsPerLitre, GlucoseUnit::MgPerDl, false, "126")]
    #[case("126", GlucoseUnit::MgPerDl, GlucoseUnit::MmolPerLitre, false, "7.0")]
    #[case(
        "7",
        GlucoseUnit::MmolPerLitre,
        GlucoseUnit::GramsPerLitre,
        true,
        "1,26"
    )]
    fn displays_per_unit(
        #[case] text: &str,
        #[case] given: GlucoseUnit,
        #[case] shown: GlucoseUnit,
        #[case] comma: bool,
        #[case] expected: &str,
    ) {
        assert_eq!(
            Glucose::parse(text, given).unwrap().format(shown, comma),
            expected
        );
    }

    #[test]
    fn keeps_the_value_as_given() {
        let g = Glucose::new(7.04, GlucoseUnit::MmolPerLitre).unwrap();
        assert_eq!((g.value(), g.unit()), (7.04, GlucoseUnit::MmolPerLitre));
        assert_eq!(g.in_unit(GlucoseUnit::MmolPerLitre), 7.04);
    }

    #[rstest]
    #[case(0.0, GlucoseUnit::MgPerDl)]
    #[case(4000.0, GlucoseUnit::MgPerDl)]
    #[case(126.0, GlucoseUnit::GramsPerLitre)]
    #[case(0.05, GlucoseUnit::GramsPerLitre)]
    #[case(40.0, GlucoseUnit::MmolPerLitre)]
    #[case(f64::NAN, GlucoseUnit::MgPerDl)]
    fn rejects_implausible(#[case] v: f64, #[case] unit: GlucoseUnit) {
        assert!(Glucose::new(v, unit).is_err());
    }

    #[test]
    fn implausible_message_names_value_unit_and_range() {
        let e = Glucose::new(126.0, GlucoseUnit::GramsPerLitre)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "glucose 126 g/L (12600 mg/dL) is outside the plausible range 10–600 mg/dL"
            ),
            "{e}"
        );
    }

    #[rstest]
    #[case("g/L", GlucoseUnit::GramsPerLitre)]
    #[case("mg/dl", GlucoseUnit::MgPerDl)]
    #[case("MMOL/L", GlucoseUnit::MmolPerLitre)]
    fn parses_units(#[case] s: &str, #[case] unit: GlucoseUnit) {
        assert_eq!(s.parse::<GlucoseUnit>().unwrap(), unit);
    }

    #[test]
    fn unknown_unit_is_named() {
        let e = "mg".parse::<GlucoseUnit>().unwrap_err().to_string();
        assert_eq!(e, "unknown glucose unit \"mg\": use g/L, mg/dL or mmol/L");
    }

    #[test]
    fn lo_and_hi_are_kept() {
        assert_eq!(
            GlucoseLevel::parse("LO", GlucoseUnit::MgPerDl).unwrap(),
            GlucoseLevel::Lo
        );
        assert_eq!(
            GlucoseLevel::parse("hi", GlucoseUnit::GramsPerLitre).unwrap(),
            GlucoseLevel::Hi
        );
        assert_eq!(GlucoseLevel::Hi.mg_dl(), None);
    }

    #[test]
    fn not_a_number_is_rejected() {
        let e = Glucose::parse("1.2.6", GlucoseUnit::GramsPerLitre).unwrap_err();
        assert!(matches!(e, DomainError::NotANumber { .. }));
    }

    proptest::proptest! {
        #[test]
        fn round_trips_between_units(mg in 10.0f64..600.0) {
            let g = Glucose::from_mg_dl(mg).unwrap();
            for unit in GlucoseUnit::ALL {
                let back = Glucose::new(g.in_unit(unit), unit).unwrap().mg_dl();
                proptest::prop_assert!((back - g.mg_dl()).abs() < 1e-5);
            }
        }
    }
}
