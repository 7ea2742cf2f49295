//! Continuous Glucose Monitoring Service (CGMS 1.0.2): CGM Measurement (0x2AA7), Feature
//! (0x2AA8), Status (0x2AA9), Session Start Time (0x2AAA) and Session Run Time (0x2AAB); the
//! Specific Ops Control Point (0x2AAC) is in `socp`.
//!
//! The Sensor Status Annunciation octets of a measurement are read Status, Cal/Temp, Warning:
//! the SIG definition lists the annunciation as one bit field (status bits 0–7, cal/temp 8–15,
//! warning 16–23) "in the order of LSO to MSO", of which only the flagged octets are sent.
//! Nordic's Android library and nRF5 SDK read Warning first; a device built on them would
//! disagree with this order when more than one octet is present (tests/data/README.md).

use super::glucose::{SampleLocation, SampleType, code_enum, flag_set};
use super::{DateTime, Reader, SFloat, crc16_mcrf4xx};
use crate::error::DecodeError;

/// An E2E-CRC as carried and as computed over the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CrcCheck {
    pub carried: u16,
    pub computed: u16,
}

impl CrcCheck {
    pub fn ok(&self) -> bool {
        self.carried == self.computed
    }

    pub(super) fn of(record: &[u8], carried: u16) -> Self {
        Self {
            carried,
            computed: crc16_mcrf4xx(record),
        }
    }
}

flag_set!(
    /// The 24-bit Sensor Status Annunciation (also the CGM Status field).
    CgmStatusFlags(u32) {
        0 => SESSION_STOPPED "session-stopped",
        1 => DEVICE_BATTERY_LOW "device-battery-low",
        2 => SENSOR_TYPE_INCORRECT "sensor-type-incorrect",
        3 => SENSOR_MALFUNCTION "sensor-malfunction",
        4 => DEVICE_SPECIFIC_ALERT "device-specific-alert",
        5 => GENERAL_DEVICE_FAULT "general-device-fault",
        8 => TIME_SYNC_REQUIRED "time-synchronization-required",
        9 => CALIBRATION_NOT_ALLOWED "calibration-not-allowed",
        10 => CALIBRATION_RECOMMENDED "calibration-recommended",
        11 => CALIBRATION_REQUIRED "calibration-required",
        12 => TEMPERATURE_TOO_HIGH "temperature-too-high",
        13 => TEMPERATURE_TOO_LOW "temperature-too-low",
        14 => CALIBRATION_PENDING "calibration-pending",
        16 => BELOW_PATIENT_LOW "result-lower-than-patient-low-level",
        17 => ABOVE_PATIENT_HIGH "result-higher-than-patient-high-level",
        18 => BELOW_HYPO "result-lower-than-hypo-level",
        19 => ABOVE_HYPER "result-higher-than-hyper-level",
        20 => RATE_OF_DECREASE_EXCEEDED "rate-of-decrease-exceeded",
        21 => RATE_OF_INCREASE_EXCEEDED "rate-of-increase-exceeded",
        22 => RESULT_TOO_LOW "result-lower-than-device-can-process",
        23 => RESULT_TOO_HIGH "result-higher-than-device-can-process",
    }
);

flag_set!(
    /// CGM Feature bits (24 bits).
    CgmFeatures(u32) {
        0 => CALIBRATION "calibration",
        1 => PATIENT_HIGH_LOW_ALERTS "patient-high-low-alerts",
        2 => HYPO_ALERTS "hypo-alerts",
        3 => HYPER_ALERTS "hyper-alerts",
        4 => RATE_ALERTS "rate-of-increase-decrease-alerts",
        5 => DEVICE_SPECIFIC_ALERT "device-specific-alert",
        6 => SENSOR_MALFUNCTION "sensor-malfunction-detection",
        7 => TEMPERATURE_HIGH_LOW "sensor-temperature-high-low-detection",
        8 => RESULT_HIGH_LOW "sensor-result-high-low-detection",
        9 => LOW_BATTERY "low-battery-detection",
        10 => SENSOR_TYPE_ERROR "sensor-type-error-detection",
        11 => GENERAL_DEVICE_FAULT "general-device-fault",
        12 => E2E_CRC "e2e-crc",
        13 => MULTIPLE_BOND "multiple-bond",
        14 => MULTIPLE_SESSIONS "multiple-sessions",
        15 => TREND "cgm-trend-information",
        16 => QUALITY "cgm-quality",
    }
);

/// One CGM Measurement record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CgmMeasurement {
    /// Glucose in mg/dL.
    pub glucose: SFloat,
    /// Minutes since the session start.
    pub time_offset_min: u16,
    pub status_octet: Option<u8>,
    pub cal_temp_octet: Option<u8>,
    pub warning_octet: Option<u8>,
    /// mg/dL per minute.
    pub trend: Option<SFloat>,
    /// Percent.
    pub quality: Option<SFloat>,
    pub crc: Option<CrcCheck>,
    /// Reserved flag bits 2–4, kept for exact re-encoding.
    pub free_flags: u8,
}

const CM: &str = "CGM Measurement (0x2AA7)";

impl CgmMeasurement {
    pub fn flags(&self) -> u8 {
        let mut f = self.free_flags & 0x1C;
        for (on, bit) in [
            (self.trend.is_some(), 0x01),
            (self.quality.is_some(), 0x02),
            (self.warning_octet.is_some(), 0x20),
            (self.cal_temp_octet.is_some(), 0x40),
            (self.status_octet.is_some(), 0x80),
        ] {
            if on {
                f |= bit;
            }
        }
        f
    }

    /// The combined 24-bit annunciation; absent octets count as zero.
    pub fn status(&self) -> CgmStatusFlags {
        CgmStatusFlags(
            u32::from(self.status_octet.unwrap_or(0))
                | (u32::from(self.cal_temp_octet.unwrap_or(0)) << 8)
                | (u32::from(self.warning_octet.unwrap_or(0)) << 16),
        )
    }

    /// Encodes one record; with `e2e` the CRC is computed and appended (the `crc` field is
    /// ignored, so a record always re-encodes with a correct CRC).
    pub fn encode(&self, e2e: bool) -> Vec<u8> {
        let mut v = vec![0, self.flags()];
        v.extend_from_slice(&self.glucose.to_raw().to_le_bytes());
        v.extend_from_slice(&self.time_offset_min.to_le_bytes());
        v.extend(self.status_octet);
        v.extend(self.cal_temp_octet);
        v.extend(self.warning_octet);
        for s in [self.trend, self.quality].into_iter().flatten() {
            v.extend_from_slice(&s.to_raw().to_le_bytes());
        }
        v[0] = (v.len() + if e2e { 2 } else { 0 }) as u8;
        if e2e {
            let crc = crc16_mcrf4xx(&v);
            v.extend_from_slice(&crc.to_le_bytes());
        }
        v
    }
}

/// Decodes every record of a CGM Measurement notification. `e2e` is the E2E-CRC Supported bit
/// of the CGM Feature when known: a record without its CRC is then an error; `None` infers the
/// CRC from the Size field. A CRC that does not match is kept in [`CgmMeasurement::crc`] (the
/// record must not be stored; the download checks it).
pub fn decode_cgm_measurements(
    bytes: &[u8],
    e2e: Option<bool>,
) -> Result<Vec<CgmMeasurement>, DecodeError> {
    let mut out = Vec::new();
    let mut start = 0;
    if bytes.is_empty() {
        return Err(DecodeError::Truncated {
            frame: CM,
            field: "size",
            offset: 0,
            needed: 1,
            len: 0,
        });
    }
    while start < bytes.len() {
        let size = usize::from(bytes[start]);
        let flags = *bytes.get(start + 1).ok_or(DecodeError::Truncated {
            frame: CM,
            field: "flags",
            offset: start + 1,
            needed: 1,
            len: bytes.len(),
        })?;
        let body = 6
            + 2 * usize::from(flags & 0x01 != 0)
            + 2 * usize::from(flags & 0x02 != 0)
            + usize::from(flags & 0x20 != 0)
            + usize::from(flags & 0x40 != 0)
            + usize::from(flags & 0x80 != 0);
        let with_crc = match (e2e, size) {
            (Some(true), s) if s == body + 2 => true,
            (Some(false), s) if s == body => false,
            (None, s) if s == body => false,
            (None, s) if s == body + 2 => true,
            (Some(true), _) => {
                return Err(bad_size(
                    start,
                    size,
                    format!("the flags and the E2E-CRC feature need {}", body + 2),
                ));
            }
            _ => {
                return Err(bad_size(
                    start,
                    size,
                    format!("the flags need {body} (or {} with an E2E-CRC)", body + 2),
                ));
            }
        };
        if start + size > bytes.len() {
            return Err(DecodeError::Truncated {
                frame: CM,
                field: "record",
                offset: start,
                needed: size,
                len: bytes.len(),
            });
        }
        let rec = &bytes[start..start + size];
        let mut r = Reader::new(CM, rec);
        r.u8("size")?;
        r.u8("flags")?;
        let glucose = r.sfloat("glucose concentration")?;
        let time_offset_min = r.u16("time offset")?;
        let status_octet = if flags & 0x80 != 0 {
            Some(r.u8("status octet")?)
        } else {
            None
        };
        let cal_temp_octet = if flags & 0x40 != 0 {
            Some(r.u8("cal/temp octet")?)
        } else {
            None
        };
        let warning_octet = if flags & 0x20 != 0 {
            Some(r.u8("warning octet")?)
        } else {
            None
        };
        let trend = if flags & 0x01 != 0 {
            Some(r.sfloat("trend")?)
        } else {
            None
        };
        let quality = if flags & 0x02 != 0 {
            Some(r.sfloat("quality")?)
        } else {
            None
        };
        let crc = if with_crc {
            let at = r.pos();
            Some(CrcCheck::of(&rec[..at], r.u16("e2e-crc")?))
        } else {
            None
        };
        r.finish()?;
        out.push(CgmMeasurement {
            glucose,
            time_offset_min,
            status_octet,
            cal_temp_octet,
            warning_octet,
            trend,
            quality,
            crc,
            free_flags: flags & 0x1C,
        });
        start += size;
    }
    Ok(out)
}

fn bad_size(offset: usize, declared: usize, reason: String) -> DecodeError {
    DecodeError::BadSize {
        frame: CM,
        offset,
        declared,
        reason,
    }
}

/// Reads an optional trailing E2E-CRC: present when exactly two bytes remain.
fn trailing_crc(r: &mut Reader<'_>, all: &[u8]) -> Result<Option<CrcCheck>, DecodeError> {
    match r.remaining() {
        0 => Ok(None),
        2 => {
            let at = r.pos();
            Ok(Some(CrcCheck::of(&all[..at], r.u16("e2e-crc")?)))
        }
        _ => {
            r.finish()?;
            Ok(None)
        }
    }
}

pub(super) fn with_crc(mut v: Vec<u8>, e2e: bool) -> Vec<u8> {
    if e2e {
        let c = crc16_mcrf4xx(&v);
        v.extend_from_slice(&c.to_le_bytes());
    }
    v
}

/// CGM Feature (0x2AA8): features, type and sample location, and a CRC that is 0xFFFF when the
/// device does not support E2E-CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgmFeature {
    pub features: CgmFeatures,
    pub sample_type: SampleType,
    pub location: SampleLocation,
    /// Checked only when the E2E-CRC feature bit is set.
    pub crc: Option<CrcCheck>,
}

impl CgmFeature {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("CGM Feature (0x2AA8)", bytes);
        let features = CgmFeatures(r.u24("features")?);
        let tl = r.u8("type-sample location")?;
        let at = r.pos();
        let carried = r.u16("e2e-crc")?;
        r.finish()?;
        let crc = features
            .has(CgmFeatures::E2E_CRC)
            .then(|| CrcCheck::of(&bytes[..at], carried));
        Ok(Self {
            features,
            sample_type: SampleType::from_code(tl & 0x0F),
            location: SampleLocation::from_code(tl >> 4),
            crc,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.features.0.to_le_bytes()[..3].to_vec();
        v.push((self.location.code() << 4) | (self.sample_type.code() & 0x0F));
        if self.features.has(CgmFeatures::E2E_CRC) {
            with_crc(v, true)
        } else {
            v.extend_from_slice(&0xFFFF_u16.to_le_bytes());
            v
        }
    }

    pub fn e2e(&self) -> bool {
        self.features.has(CgmFeatures::E2E_CRC)
    }
}

/// CGM Status (0x2AA9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgmStatus {
    pub time_offset_min: u16,
    pub status: CgmStatusFlags,
    pub crc: Option<CrcCheck>,
}

impl CgmStatus {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("CGM Status (0x2AA9)", bytes);
        let time_offset_min = r.u16("time offset")?;
        let status = CgmStatusFlags(r.u24("cgm status")?);
        let crc = trailing_crc(&mut r, bytes)?;
        Ok(Self {
            time_offset_min,
            status,
            crc,
        })
    }

    pub fn encode(&self, e2e: bool) -> Vec<u8> {
        let mut v = self.time_offset_min.to_le_bytes().to_vec();
        v.extend_from_slice(&self.status.0.to_le_bytes()[..3]);
        with_crc(v, e2e)
    }
}

code_enum!(
    /// DST Offset (0x2A0D).
    DstOffset {
        0 => Standard "standard-time",
        2 => HalfHour "half-an-hour-daylight-time",
        4 => Daylight "daylight-time",
        8 => DoubleDaylight "double-daylight-time",
        255 => Unknown "unknown",
    }
);

impl DstOffset {
    pub fn minutes(self) -> Option<i64> {
        match self {
            Self::Standard => Some(0),
            Self::HalfHour => Some(30),
            Self::Daylight => Some(60),
            Self::DoubleDaylight => Some(120),
            Self::Unknown | Self::Reserved(_) => None,
        }
    }
}

/// CGM Session Start Time (0x2AAA): the sensor's local start time, its time zone (15-minute
/// steps, −128 unknown) and DST offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgmSessionStartTime {
    pub start: DateTime,
    pub time_zone: i8,
    pub dst: DstOffset,
    pub crc: Option<CrcCheck>,
}

impl CgmSessionStartTime {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("CGM Session Start Time (0x2AAA)", bytes);
        let start = DateTime::read(&mut r, "session start time")?;
        let tz_at = r.pos();
        let time_zone = r.u8("time zone")? as i8;
        if time_zone != -128 && !(-48..=56).contains(&time_zone) {
            return Err(r.bad(
                "time zone",
                tz_at,
                u32::from(time_zone as u8),
                "is outside −48…+56 quarter hours (−128 = unknown)",
            ));
        }
        let dst = DstOffset::from_code(r.u8("dst offset")?);
        let crc = trailing_crc(&mut r, bytes)?;
        Ok(Self {
            start,
            time_zone,
            dst,
            crc,
        })
    }

    pub fn encode(&self, e2e: bool) -> Vec<u8> {
        let mut v = self.start.encode();
        v.push(self.time_zone as u8);
        v.push(self.dst.code());
        with_crc(v, e2e)
    }

    /// Offset of the start time from UTC in minutes (zone + DST), when both are known.
    pub fn utc_offset_min(&self) -> Option<i64> {
        if self.time_zone == -128 {
            return None;
        }
        Some(i64::from(self.time_zone) * 15 + self.dst.minutes()?)
    }
}

/// CGM Session Run Time (0x2AAB): expected run time of the session, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgmSessionRunTime {
    pub hours: u16,
    pub crc: Option<CrcCheck>,
}

impl CgmSessionRunTime {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("CGM Session Run Time (0x2AAB)", bytes);
        let hours = r.u16("session run time")?;
        let crc = trailing_crc(&mut r, bytes)?;
        Ok(Self { hours, crc })
    }

    pub fn encode(&self, e2e: bool) -> Vec<u8> {
        with_crc(self.hours.to_le_bytes().to_vec(), e2e)
    }
}
