//! The patient profile and the telesurveillance prescription (SPEC §2), with the default alert
//! policy per diabetes type (SPEC §3, a product rule the physician edits per patient).

use std::fmt;
use std::str::FromStr;

use chrono::{Months, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::glucose::GlucoseUnit;

/// Diabetes types eligible for reimbursed telesurveillance (arrêté of 22 June 2023).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiabetesType {
    Type1,
    Type2Insulin,
    GestationalInsulin,
    GestationalNoInsulin,
}

impl DiabetesType {
    pub fn is_gestational(self) -> bool {
        matches!(self, Self::GestationalInsulin | Self::GestationalNoInsulin)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Type1 => "type1",
            Self::Type2Insulin => "type2-insulin",
            Self::GestationalInsulin => "gestational-insulin",
            Self::GestationalNoInsulin => "gestational-no-insulin",
        }
    }
}

impl FromStr for DiabetesType {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "type1" | "t1" => Ok(Self::Type1),
            "type2-insulin" | "t2" | "type2" => Ok(Self::Type2Insulin),
            "gestational-insulin" | "gdm-insulin" => Ok(Self::GestationalInsulin),
            "gestational-no-insulin" | "gdm" => Ok(Self::GestationalNoInsulin),
            _ => Err(DomainError::UnknownName {
                what: "diabetes type",
                got: s.into(),
                expected: "type1 type2-insulin gestational-insulin gestational-no-insulin",
            }),
        }
    }
}

impl fmt::Display for DiabetesType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How glucose is measured: finger-prick meter, flash sensor (scanned) or continuous sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Monitoring {
    Capillary,
    Flash,
    Cgm,
}

impl FromStr for Monitoring {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "capillary" => Ok(Self::Capillary),
            "flash" => Ok(Self::Flash),
            "cgm" => Ok(Self::Cgm),
            _ => Err(DomainError::UnknownName {
                what: "monitoring",
                got: s.into(),
                expected: "capillary flash cgm",
            }),
        }
    }
}

/// An inclusive target range in mg/dL.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetRange {
    pub low_mg_dl: f64,
    pub high_mg_dl: f64,
}

impl TargetRange {
    pub fn contains(self, mg_dl: f64) -> bool {
        (self.low_mg_dl..=self.high_mg_dl).contains(&mg_dl)
    }
}

/// French gestational diabetes targets, maxima in mg/dL by meal context.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GestationalTargets {
    pub fasting_max_mg_dl: f64,
    pub after_1h_max_mg_dl: f64,
    pub after_2h_max_mg_dl: f64,
}

impl Default for GestationalTargets {
    fn default() -> Self {
        Self {
            fasting_max_mg_dl: 95.0,
            after_1h_max_mg_dl: 140.0,
            after_2h_max_mg_dl: 120.0,
        }
    }
}

/// Alert thresholds for one patient. `version` grows with every change so that the policy that
/// produced an alert is always known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertPolicy {
    pub version: u32,
    /// Hypo level 1 for capillary readings (strictly below).
    pub hypo_l1_mg_dl: f64,
    /// Hypo level 1 for CGM/flash readings (strictly below).
    pub hypo_l1_cgm_mg_dl: f64,
    pub hypo_l2_mg_dl: f64,
    /// Physician's severe-hypo threshold (strictly below); defaults to level 2.
    pub severe_mg_dl: f64,
    /// Hyper threshold (strictly above).
    pub hyper_mg_dl: f64,
    /// Suggest a ketone check with a hyper alert (type 1).
    pub suggest_ketones: bool,
    pub target: TargetRange,
    pub gestational: Option<GestationalTargets>,
    pub repeated_hypos_count: u32,
    pub repeated_hypos_days: u32,
    /// TBR threshold (strictly below) and maximum percentage over 14 days (CGM).
    pub tbr_threshold_mg_dl: f64,
    pub tbr_max_percent: f64,
    /// Hours without any data before the "no data" alert; cannot be disabled (SPEC §2).
    pub no_data_hours: u32,
    /// Hours after a prescribed basal time before "missed insulin".
    pub missed_insulin_grace_hours: u32,
}

impl AlertPolicy {
    /// SPEC §3 defaults for a diabetes type and monitoring.
    pub fn defaults(diabetes: DiabetesType, monitoring: Monitoring) -> Self {
        let gestational = diabetes.is_gestational();
        let continuous = monitoring != Monitoring::Capillary;
        Self {
            version: 1,
            hypo_l1_mg_dl: if gestational { 60.0 } else { 70.0 },
            hypo_l1_cgm_mg_dl: if gestational { 63.0 } else { 70.0 },
            hypo_l2_mg_dl: 54.0,
            severe_mg_dl: 54.0,
            hyper_mg_dl: if gestational { 200.0 } else { 250.0 },
            suggest_ketones: diabetes == DiabetesType::Type1,
            target: TargetRange {
                low_mg_dl: 70.0,
                high_mg_dl: 180.0,
            },
            gestational: gestational.then(GestationalTargets::default),
            repeated_hypos_count: if gestational { 2 } else { 3 },
            repeated_hypos_days: 7,
            tbr_threshold_mg_dl: if gestational { 63.0 } else { 70.0 },
            tbr_max_percent: 4.0,
            no_data_hours: if continuous || gestational { 48 } else { 72 },
            missed_insulin_grace_hours: 3,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(DomainError::InvalidPrescription(m.to_string()));
        let plausible = |v: f64| (10.0..=600.0).contains(&v);
        for v in [
            self.hypo_l1_mg_dl,
            self.hypo_l1_cgm_mg_dl,
            self.hypo_l2_mg_dl,
            self.severe_mg_dl,
            self.hyper_mg_dl,
        ] {
            if !plausible(v) {
                return bad("every threshold must lie within 10–600 mg/dL");
            }
        }
        // Thresholds are checked against each other (SPEC §3): severe < level 1, level 2 <
        // level 1, level 1 ≤ the target's low bound; a message names the rule it breaks.
        let level1 = [
            ("hypo level 1", self.hypo_l1_mg_dl),
            ("hypo level 1 for CGM", self.hypo_l1_cgm_mg_dl),
        ];
        for (name, l1) in level1 {
            if self.hypo_l2_mg_dl >= l1 {
                return Err(DomainError::InvalidPrescription(format!(
                    "hypo level 2 ({} mg/dL) must be below {name} ({l1} mg/dL)",
                    self.hypo_l2_mg_dl
                )));
            }
            if self.severe_mg_dl >= l1 {
                return Err(DomainError::InvalidPrescription(format!(
                    "the severe-hypo threshold ({} mg/dL) must be below {name} ({l1} mg/dL): \
                     a severe hypo is a level-1 hypo that went further",
                    self.severe_mg_dl
                )));
            }
            if l1 > self.target.low_mg_dl {
                return Err(DomainError::InvalidPrescription(format!(
                    "{name} ({l1} mg/dL) must not be above the target range's low bound ({} \
                     mg/dL): a hypo is always out of target",
                    self.target.low_mg_dl
                )));
            }
        }
        if self.target.low_mg_dl >= self.target.high_mg_dl {
            return bad("the target range's low bound must be below its high bound");
        }
        if self.hyper_mg_dl <= self.target.high_mg_dl {
            return bad("the hyper threshold must be above the target range");
        }
        if self.no_data_hours == 0 {
            return bad("the no-data alert cannot be disabled (SPEC §2): give a number of hours");
        }
        if self.no_data_hours > MAX_NO_DATA_HOURS {
            return Err(DomainError::InvalidPrescription(format!(
                "the no-data delay ({} hours) must be at most 7 days ({MAX_NO_DATA_HOURS} \
                 hours): the regulation requires data at least weekly, so the alert cannot be \
                 pushed further",
                self.no_data_hours
            )));
        }
        if self.repeated_hypos_count == 0 || self.repeated_hypos_days == 0 {
            return bad("repeated hypos needs a count and a number of days");
        }
        Ok(())
    }
}

/// Longest no-data delay a physician may set: the arrêté requires a transmission at least weekly.
pub const MAX_NO_DATA_HOURS: u32 = 7 * 24;

/// A prescribed basal injection: the local time it is due and its dose.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BasalSchedule {
    pub time: NaiveTime,
    pub units: f64,
}

/// A telesurveillance prescription (SPEC §2). Build with [`Prescription::new`] for the defaults of
/// a diabetes type, adjust, then [`Prescription::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prescription {
    pub diabetes_type: DiabetesType,
    pub injections_per_day: u8,
    pub pump: bool,
    pub monitoring: Monitoring,
    /// Type 1 pregnancy: the consensus pregnancy ranges apply to the metrics.
    pub pregnancy: bool,
    /// Start of telesurveillance: day 1 of the first 30-day period.
    pub start: NaiveDate,
    /// End of the 1-month trial period on a first prescription.
    pub trial_end: Option<NaiveDate>,
    /// End of the current inclusion period (1 to 3 months, renewable).
    pub inclusion_end: NaiveDate,
    /// Last day covered by the prescription (at most 1 year).
    pub end: NaiveDate,
    /// Expected glucose data points a day (capillary 2–4, flash 4 scans, CGM 70 % sensor time).
    pub expected_readings_per_day: f64,
    /// Expected insulin entries a day.
    pub expected_insulin_per_day: u32,
    /// Interval of the CGM's readings, minutes.
    pub cgm_interval_min: u32,
    pub basal: Vec<BasalSchedule>,
    pub policy: AlertPolicy,
}

impl Prescription {
    /// A first prescription starting `start` with SPEC defaults for its type and monitoring.
    pub fn new(
        diabetes_type: DiabetesType,
        monitoring: Monitoring,
        injections_per_day: u8,
        start: NaiveDate,
    ) -> Self {
        let cgm_interval_min = 5;
        let expected_readings_per_day = match monitoring {
            Monitoring::Cgm => 0.7 * 1440.0 / f64::from(cgm_interval_min),
            Monitoring::Flash => 4.0,
            Monitoring::Capillary if diabetes_type.is_gestational() || injections_per_day > 1 => {
                4.0
            }
            Monitoring::Capillary => 2.0,
        };
        let insulin = diabetes_type != DiabetesType::GestationalNoInsulin;
        Self {
            diabetes_type,
            injections_per_day: if insulin { injections_per_day } else { 0 },
            pump: false,
            monitoring,
            pregnancy: false,
            start,
            trial_end: Some(add_months(start, 1)),
            inclusion_end: add_months(start, 3),
            end: add_months(start, 12).pred_opt().unwrap_or(start),
            expected_readings_per_day,
            expected_insulin_per_day: if insulin {
                u32::from(injections_per_day)
            } else {
                0
            },
            cgm_interval_min,
            basal: Vec::new(),
            policy: AlertPolicy::defaults(diabetes_type, monitoring),
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(DomainError::InvalidPrescription(m));
        if self.end < self.start {
            return bad(format!(
                "ends ({}) before it starts ({})",
                self.end, self.start
            ));
        }
        if self.end >= add_months(self.start, 12) {
            return bad(format!(
                "a prescription lasts at most 1 year: it starts {} so it ends by {}",
                self.start,
                add_months(self.start, 12).pred_opt().unwrap_or(self.start)
            ));
        }
        if self.inclusion_end < add_months(self.start, 1).pred_opt().unwrap_or(self.start)
            || self.inclusion_end > add_months(self.start, 3)
        {
            return bad("an inclusion period lasts 1 to 3 months".into());
        }
        if matches!(
            self.diabetes_type,
            DiabetesType::Type2Insulin | DiabetesType::GestationalInsulin | DiabetesType::Type1
        ) && self.injections_per_day == 0
            && !self.pump
        {
            return bad(format!(
                "{} on insulin needs at least 1 injection a day or a pump",
                self.diabetes_type
            ));
        }
        self.check_expected_readings()?;
        if self.expected_readings_per_day <= 0.0 {
            return bad("expected readings a day must be positive".into());
        }
        if !(1..=60).contains(&self.cgm_interval_min) {
            return bad("the CGM interval must be 1 to 60 minutes".into());
        }
        if self.pregnancy && self.diabetes_type.is_gestational() {
            return bad(
                "pregnancy ranges are for type 1; gestational targets already apply".into(),
            );
        }
        self.policy.validate()
    }
}

impl Prescription {
    /// Expected glucose data (SPEC §2, arrêté of 22 June 2023): capillary readings 2–4 a day with
    /// at most one injection, at least 4 with more (a pump counts as more); a flash sensor at
    /// least 4 scans a day. Capillary stays at most 10 a day (plausibility, not regulation).
    fn check_expected_readings(&self) -> Result<()> {
        let n = self.expected_readings_per_day;
        let bad = |m: String| Err(DomainError::InvalidPrescription(m));
        match self.monitoring {
            Monitoring::Capillary if self.pump || self.injections_per_day > 1 => {
                if !(4.0..=10.0).contains(&n) {
                    return bad(format!(
                        "{n} capillary readings a day: with more than one injection a day (or a \
                         pump) the regulation asks for at least 4 readings a day (at most 10)"
                    ));
                }
            }
            Monitoring::Capillary => {
                if !(2.0..=4.0).contains(&n) {
                    return bad(format!(
                        "{n} capillary readings a day: with at most one injection a day the \
                         regulation asks for 2 to 4 readings a day"
                    ));
                }
            }
            Monitoring::Flash => {
                if n.is_nan() || n < 4.0 {
                    return bad(format!(
                        "{n} scans a day: a flash sensor must be scanned at least 4 times a day"
                    ));
                }
            }
            Monitoring::Cgm => {}
        }
        Ok(())
    }
}

/// The person the data belongs to, as far as the device needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientProfile {
    /// Pseudonymous id given by the operator at enrolment.
    pub pseudonym: String,
    /// National health identifier (INS), optional.
    pub ins: Option<String>,
    /// The patient's time zone: local dates for periods and meal times.
    pub tz: Tz,
    pub preferred_unit: GlucoseUnit,
    /// Date of death, when it happened during telesurveillance (the period is due in full).
    pub death: Option<NaiveDate>,
}

impl PatientProfile {
    pub fn new(pseudonym: impl Into<String>) -> Self {
        Self {
            pseudonym: pseudonym.into(),
            ins: None,
            tz: chrono_tz::Europe::Paris,
            preferred_unit: GlucoseUnit::GramsPerLitre,
            death: None,
        }
    }
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(d)
}

#[cfg(test)]
mod tests;
