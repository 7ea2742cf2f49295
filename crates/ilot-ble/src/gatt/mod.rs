//! Encoders and decoders for the Bluetooth SIG Glucose Service (GLS 1.0, 0x1808) and Continuous
//! Glucose Monitoring Service (CGMS 1.0.2, 0x181F), with their shared pieces: IEEE 11073-20601
//! SFLOAT/FLOAT, CRC-16/MCRF4XX, Date Time, Current Time and Device Information.
//!
//! Pure: no I/O, no clock, no async. Every decoder reads little-endian fields in the order the
//! specification lists them, driven by the flags, and returns a typed [`DecodeError`] naming the
//! frame, the field and the byte offset for a truncated or inconsistent frame — never a panic,
//! never a guess. Special SFLOAT values and every sensor-status bit are kept, never dropped.
//! Encoders exist so that the simulator speaks the same bytes and tests can round-trip.

mod cgm;
mod convert;
mod crc;
mod describe;
mod dis;
mod glucose;
mod hex;
mod racp;
mod sfloat;
mod socp;
mod time;

pub use cgm::{
    CgmFeature, CgmFeatures, CgmMeasurement, CgmSessionRunTime, CgmSessionStartTime, CgmStatus,
    CgmStatusFlags, CrcCheck, DstOffset, decode_cgm_measurements,
};
pub use convert::{MeterReading, RecordIssue, cgm_reading, meal_context, meter_reading};
pub use crc::crc16_mcrf4xx;
pub use describe::{Field, Fields, decode_to_json, describe, to_json};
pub use dis::{DeviceInfo, device_id};
pub use glucose::{
    CarbohydrateId, GlucoseConcentration, GlucoseFeatures, GlucoseMeasurement, GlucoseStatus,
    GlucoseUnitCode, Health, Meal, MeasurementContext, Medication, MedicationId, MedicationUnit,
    SampleLocation, SampleType, Tester,
};
pub use hex::parse_hex;
pub use racp::{
    Filter, RacpOpCode, RacpOperator, RacpRequest, RacpResponse, RacpResponseCode, Selection,
};
pub use sfloat::{Float32, SFloat, Special};
pub use socp::{SocpOpCode, SocpRequest, SocpResponse, SocpResponseCode};
pub use time::{CurrentTime, DateTime, DayOfWeek, TimeFieldError};

use uuid::Uuid;

use crate::error::DecodeError;

/// The 128-bit form of a 16-bit SIG-assigned UUID (Bluetooth Base UUID).
pub const fn uuid16(short: u16) -> Uuid {
    Uuid::from_u128(((short as u128) << 96) | 0x0000_0000_0000_1000_8000_0080_5f9b_34fb)
}

/// The 16-bit form of a SIG UUID, when it is one.
pub fn short_uuid(uuid: Uuid) -> Option<u16> {
    let v = uuid.as_u128();
    let base = uuid16(0).as_u128();
    if v & !(0xffff_u128 << 96) == base && (v >> 112) == 0 {
        Some((v >> 96) as u16)
    } else {
        None
    }
}

/// Services and characteristics Ilot uses, by their SIG-assigned numbers.
pub mod ids {
    use super::uuid16;
    use uuid::Uuid;

    pub const GLUCOSE_SERVICE: Uuid = uuid16(0x1808);
    pub const CGM_SERVICE: Uuid = uuid16(0x181F);
    pub const DEVICE_INFORMATION_SERVICE: Uuid = uuid16(0x180A);
    pub const CURRENT_TIME_SERVICE: Uuid = uuid16(0x1805);

    pub const GLUCOSE_MEASUREMENT: Uuid = uuid16(0x2A18);
    pub const GLUCOSE_MEASUREMENT_CONTEXT: Uuid = uuid16(0x2A34);
    pub const GLUCOSE_FEATURE: Uuid = uuid16(0x2A51);
    pub const RACP: Uuid = uuid16(0x2A52);
    pub const CGM_MEASUREMENT: Uuid = uuid16(0x2AA7);
    pub const CGM_FEATURE: Uuid = uuid16(0x2AA8);
    pub const CGM_STATUS: Uuid = uuid16(0x2AA9);
    pub const CGM_SESSION_START_TIME: Uuid = uuid16(0x2AAA);
    pub const CGM_SESSION_RUN_TIME: Uuid = uuid16(0x2AAB);
    pub const CGM_SOCP: Uuid = uuid16(0x2AAC);
    pub const DATE_TIME: Uuid = uuid16(0x2A08);
    pub const CURRENT_TIME: Uuid = uuid16(0x2A2B);
    pub const MANUFACTURER_NAME: Uuid = uuid16(0x2A29);
    pub const MODEL_NUMBER: Uuid = uuid16(0x2A24);
    pub const SERIAL_NUMBER: Uuid = uuid16(0x2A25);
}

/// A cursor over one frame that turns every short read into a precise [`DecodeError`].
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    frame: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(frame: &'static str, buf: &'a [u8]) -> Self {
        Self { buf, pos: 0, frame }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn bytes(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated {
                frame: self.frame,
                field,
                offset: self.pos,
                needed: n,
                len: self.buf.len(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.bytes(field, 1)?[0])
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.bytes(field, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        let b = self.bytes(field, 2)?;
        Ok(i16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.bytes(field, 3)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    }

    pub fn sfloat(&mut self, field: &'static str) -> Result<SFloat, DecodeError> {
        Ok(SFloat::from_raw(self.u16(field)?))
    }

    /// The frame must end here.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() > 0 {
            return Err(DecodeError::TrailingBytes {
                frame: self.frame,
                offset: self.pos,
                extra: self.remaining(),
            });
        }
        Ok(())
    }

    pub fn bad(
        &self,
        field: &'static str,
        offset: usize,
        value: u32,
        reason: &'static str,
    ) -> DecodeError {
        DecodeError::BadValue {
            frame: self.frame,
            field,
            offset,
            value,
            reason,
        }
    }
}
