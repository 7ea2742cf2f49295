//! What the rules assume when the caller lacks something, in one place for the app, the command
//! line and the server, so the same database gives the same alerts everywhere: the prescription
//! in force before the care team's arrives, the report's ranges, the AGP's bin size.
//!
//! Alerts need a prescription: its thresholds are the physician's (SPEC §3). Until one is
//! recorded the rules run on an assumed one, and callers say so ([`InForce::assumed`],
//! [`InForce::note`]).

use chrono::NaiveDate;
use ilot_domain::{DiabetesType, Monitoring, Prescription};

use crate::metrics::Ranges;

/// Bin size of the AGP the app and `ilot report --json` show (minutes; 96 bins a day).
pub const AGP_BIN_MINUTES: u32 = 15;

/// The assumed diabetes type, monitoring and injections a day. Type 1 is the most cautious
/// choice: the hypo, hyper and target thresholds are the consensus ones for every non-gestational
/// type (70/54/250, 70–180 mg/dL), and type 1 adds a ketone check to the hyper advice, which costs
/// a type 2 patient nothing and may spare a type 1 patient a ketoacidosis.
pub const ASSUMED: (DiabetesType, Monitoring, u8) = (DiabetesType::Type1, Monitoring::Cgm, 4);

/// The prescription the rules run on.
#[derive(Debug, Clone, PartialEq)]
pub struct InForce {
    pub prescription: Prescription,
    /// No prescription is recorded: `prescription` is [`ASSUMED`]'s SPEC defaults.
    pub assumed: bool,
}

impl InForce {
    /// What a caller tells the patient or the user when the prescription is assumed, with the
    /// thresholds in force; `None` when the prescription is the care team's.
    pub fn note(&self) -> Option<String> {
        let p = &self.prescription;
        let a = &p.policy;
        self.assumed.then(|| {
            format!(
                "no prescription recorded: alerts need the care team's prescription; until it \
                 arrives they use the SPEC defaults for {} on {} (hypo below {} mg/dL, level 2 \
                 below {}, severe below {}, hyper above {}, target {}–{} mg/dL)",
                p.diabetes_type,
                monitoring_name(p.monitoring),
                a.hypo_l1_mg_dl,
                a.hypo_l2_mg_dl,
                a.severe_mg_dl,
                a.hyper_mg_dl,
                a.target.low_mg_dl,
                a.target.high_mg_dl
            )
        })
    }
}

fn monitoring_name(m: Monitoring) -> &'static str {
    match m {
        Monitoring::Capillary => "a meter",
        Monitoring::Flash => "a flash sensor",
        Monitoring::Cgm => "a CGM",
    }
}

/// The recorded prescription, or the assumed one starting `today` (the patient's local date).
pub fn prescription_or_default(recorded: Option<Prescription>, today: NaiveDate) -> InForce {
    match recorded {
        Some(prescription) => InForce {
            prescription,
            assumed: false,
        },
        None => {
            let (diabetes, monitoring, injections) = ASSUMED;
            InForce {
                prescription: Prescription::new(diabetes, monitoring, injections, today),
                assumed: true,
            }
        }
    }
}

/// The report's ranges for a prescription: the consensus pregnancy ranges for a type 1 pregnancy,
/// the standard ones otherwise (and without a prescription).
pub fn ranges(prescription: Option<&Prescription>) -> Ranges {
    if prescription.is_some_and(|p| p.pregnancy) {
        Ranges::pregnancy()
    } else {
        Ranges::consensus()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_assumed_prescription_is_valid_and_said() {
        let f = prescription_or_default(None, d("2026-03-01"));
        assert!(f.assumed);
        f.prescription.validate().unwrap();
        assert_eq!(f.prescription.diabetes_type, DiabetesType::Type1);
        assert!(f.prescription.policy.suggest_ketones);
        let note = f.note().unwrap();
        assert!(
            note.contains("alerts need the care team's prescription"),
            "{note}"
        );
        assert!(note.contains("hypo below 70 mg/dL"), "{note}");
        assert!(note.contains("type1 on a CGM"), "{note}");
    }

    #[test]
    fn a_recorded_prescription_is_used_as_is() {
        let p = Prescription::new(
            DiabetesType::GestationalInsulin,
            Monitoring::Capillary,
            1,
            d("2026-01-01"),
        );
        let f = prescription_or_default(Some(p.clone()), d("2026-03-01"));
        assert_eq!(f.note(), None);
        assert_eq!((f.prescription, f.assumed), (p, false));
    }

    #[test]
    fn pregnancy_ranges_follow_the_prescription() {
        let mut p = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, d("2026-01-01"));
        assert_eq!(ranges(Some(&p)), Ranges::consensus());
        p.pregnancy = true;
        assert_eq!(ranges(Some(&p)), Ranges::pregnancy());
        assert_eq!(ranges(None), Ranges::consensus());
    }
}
