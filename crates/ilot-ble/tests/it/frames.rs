//! Every flag combination of the flag-driven characteristics, built byte by byte from the
//! field tables of the SIG definitions; every truncation point of every valid frame; and no
//! panic on arbitrary bytes.

use ilot_ble::DecodeError;
use ilot_ble::gatt::{
    GlucoseMeasurement, GlucoseUnitCode, MeasurementContext, MedicationUnit, crc16_mcrf4xx,
    decode_cgm_measurements, describe,
};

const BASE_TIME: [u8; 7] = [0xEA, 0x07, 0x03, 0x01, 0x08, 0x1E, 0x00];

/// A Glucose Measurement with the fields `flags` announces, in GLS field order.
fn gls_frame(flags: u8) -> Vec<u8> {
    let mut v = vec![flags, 0x2A, 0x00];
    v.extend_from_slice(&BASE_TIME);
    if flags & 0x01 != 0 {
        v.extend_from_slice(&(-30i16).to_le_bytes());
    }
    if flags & 0x02 != 0 {
        v.extend_from_slice(&[0x7E, 0xB0, 0x12]);
    }
    if flags & 0x08 != 0 {
        v.extend_from_slice(&[0x01, 0x00]);
    }
    v
}

/// Every prefix of a valid frame is a truncation error at the prefix's end, never a panic.
fn assert_truncations<T: std::fmt::Debug>(
    frame: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    for cut in 0..frame.len() {
        match decode(&frame[..cut]) {
            Err(DecodeError::Truncated { offset, len, .. }) => {
                assert_eq!(len, cut);
                assert!(
                    offset <= cut,
                    "offset {offset} beyond the {cut} bytes of {:02x?}",
                    &frame[..cut]
                );
            }
            other => panic!(
                "prefix {:02x?} of {frame:02x?} gave {other:?}",
                &frame[..cut]
            ),
        }
    }
}

#[test]
fn glucose_measurement_every_flag_combination() {
    for flags in 0..=255u8 {
        let frame = gls_frame(flags);
        let m = GlucoseMeasurement::decode(&frame)
            .unwrap_or_else(|e| panic!("flags {flags:#04x}: {e}"));
        assert_eq!(m.sequence, 42);
        assert_eq!(m.time_offset_min, (flags & 0x01 != 0).then_some(-30));
        assert_eq!(m.concentration.is_some(), flags & 0x02 != 0);
        if let Some(c) = m.concentration {
            let unit = if flags & 0x04 != 0 {
                GlucoseUnitCode::MolPerLitre
            } else {
                GlucoseUnitCode::KgPerLitre
            };
            assert_eq!(c.unit, unit);
        }
        assert_eq!(m.status.map(|s| s.0), (flags & 0x08 != 0).then_some(1));
        assert_eq!(m.context_follows, flags & 0x10 != 0);
        assert_eq!(
            m.encode(),
            frame,
            "flags {flags:#04x} must re-encode to the same bytes"
        );
        assert_truncations(&frame, GlucoseMeasurement::decode);
        let mut long = frame.clone();
        long.push(0);
        assert!(matches!(
            GlucoseMeasurement::decode(&long),
            Err(DecodeError::TrailingBytes { .. })
        ));
    }
}

fn context_frame(flags: u8) -> Vec<u8> {
    let mut v = vec![flags, 0x07, 0x00];
    if flags & 0x80 != 0 {
        v.push(0x00);
    }
    if flags & 0x01 != 0 {
        v.extend_from_slice(&[0x01, 0x2D, 0xD0]);
    }
    if flags & 0x02 != 0 {
        v.push(0x03);
    }
    if flags & 0x04 != 0 {
        v.push(0x41);
    }
    if flags & 0x08 != 0 {
        v.extend_from_slice(&[0x08, 0x07, 0x32]);
    }
    if flags & 0x10 != 0 {
        v.extend_from_slice(&[0x01, 0x04, 0xB0]);
    }
    if flags & 0x40 != 0 {
        v.extend_from_slice(&[0x47, 0xF0]);
    }
    v
}

#[test]
fn measurement_context_every_flag_combination() {
    for flags in 0..=255u8 {
        let frame = context_frame(flags);
        let c = MeasurementContext::decode(&frame)
            .unwrap_or_else(|e| panic!("flags {flags:#04x}: {e}"));
        assert_eq!(c.carbohydrate.is_some(), flags & 0x01 != 0);
        assert_eq!(c.meal.is_some(), flags & 0x02 != 0);
        assert_eq!(c.tester_health.is_some(), flags & 0x04 != 0);
        assert_eq!(c.exercise, (flags & 0x08 != 0).then_some((1800, 50)));
        assert_eq!(c.medication.is_some(), flags & 0x10 != 0);
        if let Some(m) = c.medication {
            let unit = if flags & 0x20 != 0 {
                MedicationUnit::Litres
            } else {
                MedicationUnit::Kilograms
            };
            assert_eq!(m.unit, unit);
        }
        assert_eq!(c.hba1c.is_some(), flags & 0x40 != 0);
        assert_eq!(c.extended_flags.is_some(), flags & 0x80 != 0);
        assert_eq!(c.encode(), frame, "flags {flags:#04x}");
        assert_truncations(&frame, MeasurementContext::decode);
    }
}

fn cgm_frame(flags: u8, crc: bool) -> Vec<u8> {
    let mut v = vec![0, flags, 0x78, 0x00, 0x0A, 0x00];
    for (bit, byte) in [(0x80, 0x02), (0x40, 0x04), (0x20, 0x08)] {
        if flags & bit != 0 {
            v.push(byte);
        }
    }
    if flags & 0x01 != 0 {
        v.extend_from_slice(&[0xF1, 0xFF]);
    }
    if flags & 0x02 != 0 {
        v.extend_from_slice(&[0x5F, 0x00]);
    }
    v[0] = (v.len() + if crc { 2 } else { 0 }) as u8;
    if crc {
        let c = crc16_mcrf4xx(&v);
        v.extend_from_slice(&c.to_le_bytes());
    }
    v
}

#[test]
fn cgm_measurement_every_flag_combination_with_and_without_crc() {
    for flags in 0..=255u8 {
        for crc in [false, true] {
            let frame = cgm_frame(flags, crc);
            let recs = decode_cgm_measurements(&frame, Some(crc))
                .unwrap_or_else(|e| panic!("{flags:#04x}: {e}"));
            assert_eq!(recs.len(), 1);
            let m = recs[0];
            assert_eq!(m.time_offset_min, 10);
            assert_eq!(m.status_octet, (flags & 0x80 != 0).then_some(0x02));
            assert_eq!(m.cal_temp_octet, (flags & 0x40 != 0).then_some(0x04));
            assert_eq!(m.warning_octet, (flags & 0x20 != 0).then_some(0x08));
            assert_eq!(m.trend.is_some(), flags & 0x01 != 0);
            assert_eq!(m.quality.is_some(), flags & 0x02 != 0);
            assert_eq!(m.crc.map(|c| c.ok()), crc.then_some(true));
            assert_eq!(m.encode(crc), frame);
            // Inferring the CRC from the size gives the same record.
            assert_eq!(decode_cgm_measurements(&frame, None).unwrap(), recs);
            // The feature says the other thing: the size cannot match.
            assert!(matches!(
                decode_cgm_measurements(&frame, Some(!crc)),
                Err(DecodeError::BadSize { .. })
            ));
            for cut in 0..frame.len() {
                assert!(
                    decode_cgm_measurements(&frame[..cut], None).is_err(),
                    "prefix {cut} of {frame:02x?}"
                );
            }
        }
    }
}

#[test]
fn a_flipped_bit_anywhere_is_caught_by_the_crc() {
    let frame = cgm_frame(0xE3, true);
    for byte in 2..frame.len() {
        for bit in 0..8 {
            let mut bad = frame.clone();
            bad[byte] ^= 1 << bit;
            let crc_ok = decode_cgm_measurements(&bad, Some(true)).map(|r| r[0].crc.unwrap().ok());
            assert_eq!(crc_ok, Ok(false), "byte {byte} bit {bit}");
        }
    }
}

const CHARS: [&str; 14] = [
    "2a18", "2a34", "2a51", "2a52", "2aa7", "2aa8", "2aa9", "2aaa", "2aab", "2aac", "2a08", "2a2b",
    "sfloat", "float",
];

#[test]
fn every_short_input_is_an_error_or_a_value_never_a_panic() {
    // All inputs of up to two bytes, exhaustively.
    for ch in CHARS {
        let _ = describe(ch, &[]);
        for a in 0..=255u8 {
            let _ = describe(ch, &[a]);
            for b in 0..=255u8 {
                let _ = describe(ch, &[a, b]);
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
        for ch in CHARS {
            let _ = describe(ch, &bytes);
        }
        let _ = ilot_ble::gatt::RacpRequest::decode(&bytes);
        let _ = ilot_ble::gatt::SocpRequest::decode(&bytes, true);
        let _ = ilot_ble::gatt::SocpResponse::decode(&bytes, true);
        let _ = decode_cgm_measurements(&bytes, Some(true));
        if let Ok(m) = GlucoseMeasurement::decode(&bytes) {
            let _ = ilot_ble::gatt::meter_reading(&m, None);
            proptest::prop_assert_eq!(m.encode(), bytes);
        }
    }

    #[test]
    fn valid_glucose_frames_with_random_fields_round_trip(flags in 0u8..32, seq: u16, raw: u16, tl: u8, status: u16, off: i16) {
        let mut v = vec![flags, seq as u8, (seq >> 8) as u8];
        v.extend_from_slice(&BASE_TIME);
        if flags & 1 != 0 { v.extend_from_slice(&off.to_le_bytes()); }
        if flags & 2 != 0 { v.extend_from_slice(&raw.to_le_bytes()); v.push(tl); }
        if flags & 8 != 0 { v.extend_from_slice(&status.to_le_bytes()); }
        let m = GlucoseMeasurement::decode(&v).unwrap();
        proptest::prop_assert_eq!(m.encode(), v);
    }
}
