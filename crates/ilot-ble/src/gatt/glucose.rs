//! Glucose Service (GLS 1.0): Glucose Measurement (0x2A18), Glucose Measurement Context
//! (0x2A34) and Glucose Feature (0x2A51). Field order, flags and enumerations are those of
//! GLS 1.0 § 3.106–3.108 and the SIG characteristic definitions.

use chrono::{NaiveDateTime, TimeDelta};

use super::{DateTime, Reader, SFloat, TimeFieldError};
use crate::error::DecodeError;

/// An enumeration the specification defines by small codes, keeping unknown codes as
/// `Reserved(code)` instead of refusing the frame (receivers must tolerate future values).
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($code:literal => $variant:ident $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)+ Reserved(u8) }

        impl $name {
            pub fn from_code(code: u8) -> Self {
                match code { $($code => Self::$variant,)+ other => Self::Reserved(other) }
            }
            pub fn code(self) -> u8 {
                match self { $(Self::$variant => $code,)+ Self::Reserved(c) => c }
            }
            /// Lowercase kebab-case name; `reserved-<code>` for codes the specification reserves.
            pub fn name(self) -> String {
                match self { $(Self::$variant => $text.to_string(),)+ Self::Reserved(c) => format!("reserved-{c}") }
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// Type of sample, low nibble of the Type-Sample Location octet.
    SampleType {
        1 => CapillaryWholeBlood "capillary-whole-blood",
        2 => CapillaryPlasma "capillary-plasma",
        3 => VenousWholeBlood "venous-whole-blood",
        4 => VenousPlasma "venous-plasma",
        5 => ArterialWholeBlood "arterial-whole-blood",
        6 => ArterialPlasma "arterial-plasma",
        7 => UndeterminedWholeBlood "undetermined-whole-blood",
        8 => UndeterminedPlasma "undetermined-plasma",
        9 => InterstitialFluid "interstitial-fluid",
        10 => ControlSolution "control-solution",
    }
);

code_enum!(
    /// Sample location, high nibble of the Type-Sample Location octet.
    SampleLocation {
        1 => Finger "finger",
        2 => AlternateSite "alternate-site",
        3 => Earlobe "earlobe",
        4 => ControlSolution "control-solution",
        15 => NotAvailable "not-available",
    }
);

code_enum!(CarbohydrateId {
    1 => Breakfast "breakfast",
    2 => Lunch "lunch",
    3 => Dinner "dinner",
    4 => Snack "snack",
    5 => Drink "drink",
    6 => Supper "supper",
    7 => Brunch "brunch",
});

code_enum!(Meal {
    1 => Preprandial "preprandial",
    2 => Postprandial "postprandial",
    3 => Fasting "fasting",
    4 => Casual "casual",
    5 => Bedtime "bedtime",
});

code_enum!(Tester {
    1 => SelfTest "self",
    2 => HealthCareProfessional "health-care-professional",
    3 => LabTest "lab-test",
    15 => NotAvailable "not-available",
});

code_enum!(Health {
    1 => MinorIssues "minor-health-issues",
    2 => MajorIssues "major-health-issues",
    3 => DuringMenses "during-menses",
    4 => UnderStress "under-stress",
    5 => NoIssues "no-health-issues",
    15 => NotAvailable "not-available",
});

code_enum!(MedicationId {
    1 => RapidActingInsulin "rapid-acting-insulin",
    2 => ShortActingInsulin "short-acting-insulin",
    3 => IntermediateActingInsulin "intermediate-acting-insulin",
    4 => LongActingInsulin "long-acting-insulin",
    5 => PreMixedInsulin "pre-mixed-insulin",
});

/// The unit flag of the Glucose Measurement (bit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlucoseUnitCode {
    KgPerLitre,
    MolPerLitre,
}

impl GlucoseUnitCode {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::KgPerLitre => "kg/L",
            Self::MolPerLitre => "mol/L",
        }
    }
}

/// Glucose Concentration with its unit, type and sample location (flag bit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlucoseConcentration {
    pub value: SFloat,
    pub unit: GlucoseUnitCode,
    pub sample_type: SampleType,
    pub location: SampleLocation,
}

impl GlucoseConcentration {
    /// The value in the clinical unit the SI unit scales to exactly: kg/L × 10⁵ = mg/dL, mol/L ×
    /// 10³ = mmol/L. `None` for a special SFLOAT.
    pub fn clinical(&self) -> Option<(f64, ilot_domain::GlucoseUnit)> {
        match self.unit {
            GlucoseUnitCode::KgPerLitre => self
                .value
                .scaled(5)
                .map(|v| (v, ilot_domain::GlucoseUnit::MgPerDl)),
            GlucoseUnitCode::MolPerLitre => self
                .value
                .scaled(3)
                .map(|v| (v, ilot_domain::GlucoseUnit::MmolPerLitre)),
        }
    }

    /// mg/dL (mmol/L × 18.016, SPEC §3), `None` for a special SFLOAT.
    pub fn mg_dl(&self) -> Option<f64> {
        let (v, unit) = self.clinical()?;
        match unit {
            ilot_domain::GlucoseUnit::MmolPerLitre => Some(v * ilot_domain::MG_DL_PER_MMOL_L),
            _ => Some(v),
        }
    }
}

/// A bit set with a name for every bit, reserved bits included.
macro_rules! flag_set {
    ($(#[$m:meta])* $name:ident($repr:ty) { $($bit:literal => $const:ident $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub $repr);

        impl $name {
            $(pub const $const: $repr = 1 << $bit;)+
            const NAMES: &'static [(u32, &'static str)] = &[$(($bit, $text)),+];

            pub fn has(self, bit: $repr) -> bool {
                self.0 & bit != 0
            }

            /// The names of the bits that are set, lowest first; `reserved-bit-<n>` for bits the
            /// specification reserves.
            pub fn names(self) -> Vec<String> {
                (0..<$repr>::BITS)
                    .filter(|b| self.0 & (1 << b) != 0)
                    .map(|b| Self::NAMES.iter().find(|(n, _)| *n == b)
                        .map_or_else(|| format!("reserved-bit-{b}"), |(_, t)| (*t).to_string()))
                    .collect()
            }
        }
    };
}
pub(crate) use flag_set;

flag_set!(
    /// Sensor Status Annunciation of a Glucose Measurement (16 bits).
    GlucoseStatus(u16) {
        0 => BATTERY_LOW "battery-low",
        1 => SENSOR_MALFUNCTION "sensor-malfunction",
        2 => SAMPLE_SIZE_INSUFFICIENT "sample-size-insufficient",
        3 => STRIP_INSERTION_ERROR "strip-insertion-error",
        4 => STRIP_TYPE_INCORRECT "strip-type-incorrect",
        5 => RESULT_TOO_HIGH "result-higher-than-device-can-process",
        6 => RESULT_TOO_LOW "result-lower-than-device-can-process",
        7 => TEMPERATURE_TOO_HIGH "temperature-too-high",
        8 => TEMPERATURE_TOO_LOW "temperature-too-low",
        9 => READ_INTERRUPTED "read-interrupted-strip-pulled-too-soon",
        10 => GENERAL_DEVICE_FAULT "general-device-fault",
        11 => TIME_FAULT "time-fault",
    }
);

flag_set!(
    /// Glucose Feature (0x2A51).
    GlucoseFeatures(u16) {
        0 => LOW_BATTERY "low-battery-detection",
        1 => SENSOR_MALFUNCTION "sensor-malfunction-detection",
        2 => SAMPLE_SIZE "sensor-sample-size",
        3 => STRIP_INSERTION_ERROR "strip-insertion-error-detection",
        4 => STRIP_TYPE_ERROR "strip-type-error-detection",
        5 => RESULT_HIGH_LOW "result-high-low-detection",
        6 => TEMPERATURE_HIGH_LOW "temperature-high-low-detection",
        7 => READ_INTERRUPT "read-interrupt-detection",
        8 => GENERAL_DEVICE_FAULT "general-device-fault",
        9 => TIME_FAULT "time-fault",
        10 => MULTIPLE_BOND "multiple-bond",
    }
);

impl GlucoseFeatures {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("Glucose Feature (0x2A51)", bytes);
        let v = r.u16("features")?;
        r.finish()?;
        Ok(Self(v))
    }

    pub fn encode(&self) -> Vec<u8> {
        self.0.to_le_bytes().to_vec()
    }
}

/// One Glucose Measurement record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlucoseMeasurement {
    pub sequence: u16,
    pub base_time: DateTime,
    /// Minutes to add to the base time for the user-facing time (sint16).
    pub time_offset_min: Option<i16>,
    pub concentration: Option<GlucoseConcentration>,
    pub status: Option<GlucoseStatus>,
    pub context_follows: bool,
    /// Flag bits that announce no field: the unit bit when no concentration is present, and the
    /// reserved bits 5–7. Kept so that a frame re-encodes to the same bytes.
    pub free_flags: u8,
}

const GM: &str = "Glucose Measurement (0x2A18)";

impl GlucoseMeasurement {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(GM, bytes);
        let flags = r.u8("flags")?;
        let sequence = r.u16("sequence number")?;
        let base_time = DateTime::read(&mut r, "base time")?;
        let time_offset_min = if flags & 0x01 != 0 {
            Some(r.i16("time offset")?)
        } else {
            None
        };
        let unit = if flags & 0x04 != 0 {
            GlucoseUnitCode::MolPerLitre
        } else {
            GlucoseUnitCode::KgPerLitre
        };
        let concentration = if flags & 0x02 != 0 {
            let value = r.sfloat("glucose concentration")?;
            let tl = r.u8("type-sample location")?;
            Some(GlucoseConcentration {
                value,
                unit,
                sample_type: SampleType::from_code(tl & 0x0F),
                location: SampleLocation::from_code(tl >> 4),
            })
        } else {
            None
        };
        let status = if flags & 0x08 != 0 {
            Some(GlucoseStatus(r.u16("sensor status annunciation")?))
        } else {
            None
        };
        r.finish()?;
        let mut free = flags & 0xE0;
        if concentration.is_none() {
            free |= flags & 0x04;
        }
        Ok(Self {
            sequence,
            base_time,
            time_offset_min,
            concentration,
            status,
            context_follows: flags & 0x10 != 0,
            free_flags: free,
        })
    }

    pub fn flags(&self) -> u8 {
        let mut f = self.free_flags;
        if self.time_offset_min.is_some() {
            f |= 0x01;
        }
        if let Some(c) = &self.concentration {
            f |= 0x02;
            if c.unit == GlucoseUnitCode::MolPerLitre {
                f |= 0x04;
            }
        }
        if self.status.is_some() {
            f |= 0x08;
        }
        if self.context_follows {
            f |= 0x10;
        }
        f
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(17);
        v.push(self.flags());
        v.extend_from_slice(&self.sequence.to_le_bytes());
        self.base_time.encode_into(&mut v);
        if let Some(o) = self.time_offset_min {
            v.extend_from_slice(&o.to_le_bytes());
        }
        if let Some(c) = &self.concentration {
            v.extend_from_slice(&c.value.to_raw().to_le_bytes());
            v.push((c.location.code() << 4) | (c.sample_type.code() & 0x0F));
        }
        if let Some(s) = self.status {
            v.extend_from_slice(&s.0.to_le_bytes());
        }
        v
    }

    /// The user-facing time on the device's clock: base time + time offset.
    pub fn time(&self) -> Result<NaiveDateTime, TimeFieldError> {
        let base = self.base_time.naive()?;
        Ok(base + TimeDelta::minutes(i64::from(self.time_offset_min.unwrap_or(0))))
    }
}

/// Medication in a context record: kilograms (flag bit 5 = 0) or litres (bit 5 = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MedicationUnit {
    Kilograms,
    Litres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Medication {
    pub id: MedicationId,
    pub amount: SFloat,
    pub unit: MedicationUnit,
}

impl Medication {
    /// The amount as people read it: milligrams (kg × 10⁶) or millilitres (L × 10³), exact.
    pub fn human(&self) -> Option<(f64, &'static str)> {
        match self.unit {
            MedicationUnit::Kilograms => self.amount.scaled(6).map(|v| (v, "mg")),
            MedicationUnit::Litres => self.amount.scaled(3).map(|v| (v, "mL")),
        }
    }
}

/// One Glucose Measurement Context record, joined to its measurement by sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeasurementContext {
    pub sequence: u16,
    pub extended_flags: Option<u8>,
    /// Carbohydrate ID and amount in kilograms.
    pub carbohydrate: Option<(CarbohydrateId, SFloat)>,
    pub meal: Option<Meal>,
    pub tester_health: Option<(Tester, Health)>,
    /// Exercise duration in seconds (65535 = overrun) and intensity in percent.
    pub exercise: Option<(u16, u8)>,
    pub medication: Option<Medication>,
    /// HbA1c in percent.
    pub hba1c: Option<SFloat>,
    /// The litres bit when no medication is present; kept for exact re-encoding.
    pub free_flags: u8,
}

const MC: &str = "Glucose Measurement Context (0x2A34)";

impl MeasurementContext {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(MC, bytes);
        let flags = r.u8("flags")?;
        let sequence = r.u16("sequence number")?;
        let extended_flags = if flags & 0x80 != 0 {
            Some(r.u8("extended flags")?)
        } else {
            None
        };
        let carbohydrate = if flags & 0x01 != 0 {
            let id = CarbohydrateId::from_code(r.u8("carbohydrate id")?);
            Some((id, r.sfloat("carbohydrate")?))
        } else {
            None
        };
        let meal = if flags & 0x02 != 0 {
            Some(Meal::from_code(r.u8("meal")?))
        } else {
            None
        };
        let tester_health = if flags & 0x04 != 0 {
            let b = r.u8("tester-health")?;
            Some((Tester::from_code(b & 0x0F), Health::from_code(b >> 4)))
        } else {
            None
        };
        let exercise = if flags & 0x08 != 0 {
            Some((r.u16("exercise duration")?, r.u8("exercise intensity")?))
        } else {
            None
        };
        let litres = flags & 0x20 != 0;
        let medication = if flags & 0x10 != 0 {
            let id = MedicationId::from_code(r.u8("medication id")?);
            let amount = r.sfloat("medication")?;
            let unit = if litres {
                MedicationUnit::Litres
            } else {
                MedicationUnit::Kilograms
            };
            Some(Medication { id, amount, unit })
        } else {
            None
        };
        let hba1c = if flags & 0x40 != 0 {
            Some(r.sfloat("hba1c")?)
        } else {
            None
        };
        r.finish()?;
        Ok(Self {
            sequence,
            extended_flags,
            carbohydrate,
            meal,
            tester_health,
            exercise,
            medication,
            hba1c,
            free_flags: if medication.is_none() {
                flags & 0x20
            } else {
                0
            },
        })
    }

    pub fn flags(&self) -> u8 {
        let mut f = self.free_flags;
        let set = |f: &mut u8, on: bool, bit: u8| {
            if on {
                *f |= bit;
            }
        };
        set(&mut f, self.carbohydrate.is_some(), 0x01);
        set(&mut f, self.meal.is_some(), 0x02);
        set(&mut f, self.tester_health.is_some(), 0x04);
        set(&mut f, self.exercise.is_some(), 0x08);
        set(&mut f, self.medication.is_some(), 0x10);
        set(
            &mut f,
            self.medication
                .is_some_and(|m| m.unit == MedicationUnit::Litres),
            0x20,
        );
        set(&mut f, self.hba1c.is_some(), 0x40);
        set(&mut f, self.extended_flags.is_some(), 0x80);
        f
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = vec![self.flags()];
        v.extend_from_slice(&self.sequence.to_le_bytes());
        if let Some(x) = self.extended_flags {
            v.push(x);
        }
        if let Some((id, amount)) = self.carbohydrate {
            v.push(id.code());
            v.extend_from_slice(&amount.to_raw().to_le_bytes());
        }
        if let Some(m) = self.meal {
            v.push(m.code());
        }
        if let Some((t, h)) = self.tester_health {
            v.push((h.code() << 4) | (t.code() & 0x0F));
        }
        if let Some((secs, pct)) = self.exercise {
            v.extend_from_slice(&secs.to_le_bytes());
            v.push(pct);
        }
        if let Some(m) = self.medication {
            v.push(m.id.code());
            v.extend_from_slice(&m.amount.to_raw().to_le_bytes());
        }
        if let Some(h) = self.hba1c {
            v.extend_from_slice(&h.to_raw().to_le_bytes());
        }
        v
    }

    /// Carbohydrates in grams (kg × 10³, exact), `None` when absent or special.
    pub fn carbs_grams(&self) -> Option<f64> {
        self.carbohydrate.and_then(|(_, kg)| kg.scaled(3))
    }
}
