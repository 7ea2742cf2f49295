//! A decoded frame as named fields and as JSON, for `ilot ble decode CHAR HEX` and the test
//! vectors. CHAR is a 16-bit UUID in hex (`2a18`, `0x2A18`), a full UUID, or `sfloat`/`float`.
//!
//! Glucose Measurement (2a18): `sequence`, `time` (base time + time offset, ISO 8601 on the
//! device's wall clock, `null` with `time_error` when the device sent an impossible date),
//! `time_offset_min`, `mg_dl` (`null` when absent or special), `value` and `unit` as sent,
//! `special` (`nan`, `nres`, `+inf`, `-inf`, `reserved` or `null`), `type`, `location`,
//! `status` (names of the set bits), `context_follows`. CGM Measurement (2aa7): `mg_dl`,
//! `time_offset_min`, `trend`, `quality`, `status`, `crc_ok` (`null` without a CRC), `special`;
//! a notification carrying several records gives `records`.

use super::{
    CgmFeature, CgmMeasurement, CgmSessionRunTime, CgmSessionStartTime, CgmStatus, CrcCheck,
    CurrentTime, DateTime, Float32, GlucoseFeatures, GlucoseMeasurement, MeasurementContext,
    RacpRequest, RacpResponse, SFloat, SocpRequest, SocpResponse, decode_cgm_measurements,
    short_uuid,
};
use crate::error::DecodeError;

/// A JSON value, without pulling a JSON library into the codec crate.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    List(Vec<String>),
    Objects(Vec<Fields>),
}

pub type Fields = Vec<(&'static str, Field)>;

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Field) -> Field {
    v.map_or(Field::Null, f)
}

fn num(v: f64) -> Field {
    // Same representation-noise cleanup as ilot_domain::Glucose (1e-6), display only.
    Field::Num((v * 1e6).round() / 1e6)
}

fn sfloat_fields(prefix_value: &'static str, v: SFloat) -> Fields {
    vec![
        (prefix_value, opt(v.value(), num)),
        ("special", opt(v.special(), |s| Field::Str(s.name().into()))),
    ]
}

fn crc_field(c: Option<CrcCheck>) -> Field {
    opt(c, |c| Field::Bool(c.ok()))
}

fn date_time(t: &DateTime) -> Fields {
    match t.naive() {
        Ok(n) => vec![
            (
                "time",
                Field::Str(n.format("%Y-%m-%dT%H:%M:%S").to_string()),
            ),
            ("time_error", Field::Null),
        ],
        Err(e) => vec![
            ("time", Field::Null),
            ("time_error", Field::Str(e.to_string())),
        ],
    }
}

fn glucose_measurement(m: &GlucoseMeasurement) -> Fields {
    let time = match m.time() {
        Ok(t) => vec![
            (
                "time",
                Field::Str(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            ),
            ("time_error", Field::Null),
        ],
        Err(e) => vec![
            ("time", Field::Null),
            ("time_error", Field::Str(e.to_string())),
        ],
    };
    let c = m.concentration;
    let mut f: Fields = vec![("sequence", Field::Int(i64::from(m.sequence)))];
    f.extend(time);
    f.extend([
        (
            "time_offset_min",
            opt(m.time_offset_min, |o| Field::Int(i64::from(o))),
        ),
        ("mg_dl", opt(c.and_then(|c| c.mg_dl()), num)),
        ("value", opt(c, |c| Field::Str(c.value.to_string()))),
        ("unit", opt(c, |c| Field::Str(c.unit.symbol().into()))),
        (
            "special",
            opt(c.and_then(|c| c.value.special()), |s| {
                Field::Str(s.name().into())
            }),
        ),
        ("type", opt(c, |c| Field::Str(c.sample_type.name()))),
        ("location", opt(c, |c| Field::Str(c.location.name()))),
        (
            "status",
            Field::List(m.status.map(|s| s.names()).unwrap_or_default()),
        ),
        ("context_follows", Field::Bool(m.context_follows)),
    ]);
    f
}

fn context(c: &MeasurementContext) -> Fields {
    vec![
        ("sequence", Field::Int(i64::from(c.sequence))),
        (
            "carbohydrate",
            opt(c.carbohydrate, |(id, _)| Field::Str(id.name())),
        ),
        ("carbs_g", opt(c.carbs_grams(), num)),
        ("meal", opt(c.meal, |m| Field::Str(m.name()))),
        (
            "tester",
            opt(c.tester_health, |(t, _)| Field::Str(t.name())),
        ),
        (
            "health",
            opt(c.tester_health, |(_, h)| Field::Str(h.name())),
        ),
        (
            "exercise_s",
            opt(c.exercise, |(s, _)| Field::Int(i64::from(s))),
        ),
        (
            "exercise_intensity_pct",
            opt(c.exercise, |(_, p)| Field::Int(i64::from(p))),
        ),
        ("medication", opt(c.medication, |m| Field::Str(m.id.name()))),
        (
            "medication_amount",
            opt(c.medication.and_then(|m| m.human()), |(v, _)| num(v)),
        ),
        (
            "medication_unit",
            opt(c.medication.and_then(|m| m.human()), |(_, u)| {
                Field::Str(u.into())
            }),
        ),
        ("hba1c_pct", opt(c.hba1c.and_then(|h| h.value()), num)),
        (
            "extended_flags",
            opt(c.extended_flags, |x| Field::Int(i64::from(x))),
        ),
    ]
}

fn cgm_record(m: &CgmMeasurement) -> Fields {
    let mut f = vec![("mg_dl", opt(m.glucose.value(), num))];
    f.extend([
        (
            "special",
            opt(m.glucose.special(), |s| Field::Str(s.name().into())),
        ),
        ("time_offset_min", Field::Int(i64::from(m.time_offset_min))),
        ("trend", opt(m.trend.and_then(|t| t.value()), num)),
        ("quality", opt(m.quality.and_then(|q| q.value()), num)),
        ("status", Field::List(m.status().names())),
        ("crc_ok", crc_field(m.crc)),
    ]);
    f
}

fn racp(bytes: &[u8]) -> Result<Fields, DecodeError> {
    match bytes.first() {
        Some(5 | 6) => Ok(match RacpResponse::decode(bytes)? {
            RacpResponse::NumberOfRecords(n) => vec![
                ("op", Field::Str("number-of-stored-records-response".into())),
                ("records", Field::Int(i64::from(n))),
            ],
            RacpResponse::Code { request, code } => vec![
                ("op", Field::Str("response-code".into())),
                ("request", Field::Str(request.name())),
                ("response", Field::Str(code.name())),
            ],
        }),
        _ => {
            let req = RacpRequest::decode(bytes)?;
            Ok(vec![
                ("op", Field::Str(req.op_code().name())),
                ("request", Field::Str(format!("{req:?}"))),
            ])
        }
    }
}

/// Decodes `bytes` as the characteristic named by `characteristic` (module doc).
pub fn describe(characteristic: &str, bytes: &[u8]) -> Result<Fields, DecodeError> {
    let name = characteristic.trim().to_ascii_lowercase();
    let short = match name.as_str() {
        "sfloat" => {
            let mut r = super::Reader::new("SFLOAT", bytes);
            let v = r.sfloat("sfloat")?;
            r.finish()?;
            let mut f = sfloat_fields("value", v);
            f.push(("text", Field::Str(v.to_string())));
            return Ok(f);
        }
        "float" => {
            let mut r = super::Reader::new("FLOAT", bytes);
            let b = r.bytes("float", 4)?;
            r.finish()?;
            let v = Float32::from_raw(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            return Ok(vec![
                ("value", opt(v.value(), num)),
                (
                    "special",
                    opt(
                        match v {
                            Float32::Special(s) => Some(s),
                            _ => None,
                        },
                        |s| Field::Str(s.name().into()),
                    ),
                ),
            ]);
        }
        n => parse_uuid(n)?,
    };
    Ok(match short {
        0x2A18 => glucose_measurement(&GlucoseMeasurement::decode(bytes)?),
        0x2A34 => context(&MeasurementContext::decode(bytes)?),
        0x2A51 => vec![(
            "features",
            Field::List(GlucoseFeatures::decode(bytes)?.names()),
        )],
        0x2A52 => racp(bytes)?,
        0x2AA7 => {
            let recs = decode_cgm_measurements(bytes, None)?;
            if recs.len() == 1 {
                cgm_record(&recs[0])
            } else {
                vec![(
                    "records",
                    Field::Objects(recs.iter().map(cgm_record).collect()),
                )]
            }
        }
        0x2AA8 => {
            let f = CgmFeature::decode(bytes)?;
            vec![
                ("features", Field::List(f.features.names())),
                ("type", Field::Str(f.sample_type.name())),
                ("location", Field::Str(f.location.name())),
                ("crc_ok", crc_field(f.crc)),
            ]
        }
        0x2AA9 => {
            let s = CgmStatus::decode(bytes)?;
            vec![
                ("time_offset_min", Field::Int(i64::from(s.time_offset_min))),
                ("status", Field::List(s.status.names())),
                ("crc_ok", crc_field(s.crc)),
            ]
        }
        0x2AAA => {
            let s = CgmSessionStartTime::decode(bytes)?;
            let mut f = date_time(&s.start);
            f.extend([
                (
                    "time_zone_min",
                    if s.time_zone == -128 {
                        Field::Null
                    } else {
                        Field::Int(i64::from(s.time_zone) * 15)
                    },
                ),
                ("dst", Field::Str(s.dst.name())),
                ("crc_ok", crc_field(s.crc)),
            ]);
            f
        }
        0x2AAB => {
            let s = CgmSessionRunTime::decode(bytes)?;
            vec![
                ("hours", Field::Int(i64::from(s.hours))),
                ("crc_ok", crc_field(s.crc)),
            ]
        }
        0x2AAC => match bytes.first() {
            Some(3 | 6 | 9 | 12 | 15 | 18 | 21 | 24 | 28) => {
                let (r, _) = SocpResponse::decode(bytes, false)?;
                vec![("response", Field::Str(format!("{r:?}")))]
            }
            _ => {
                let (r, _) = SocpRequest::decode(bytes, false)?;
                vec![("request", Field::Str(format!("{r:?}")))]
            }
        },
        0x2A08 => date_time(&DateTime::decode(bytes)?),
        0x2A2B => {
            let t = CurrentTime::decode(bytes)?;
            let mut f = date_time(&t.date_time);
            f.extend([
                ("day_of_week", Field::Int(i64::from(t.day_of_week))),
                ("fractions256", Field::Int(i64::from(t.fractions256))),
                (
                    "adjust_reason",
                    Field::List(t.adjust_reasons().into_iter().map(String::from).collect()),
                ),
            ]);
            f
        }
        other => {
            return Err(DecodeError::Input(format!(
                "no decoder for characteristic {other:#06x}; use 2a18, 2a34, 2a51, 2a52, 2aa7, 2aa8, 2aa9, 2aaa, 2aab, 2aac, 2a08, 2a2b, sfloat or float"
            )));
        }
    })
}

fn parse_uuid(n: &str) -> Result<u16, DecodeError> {
    let hex = n.trim_start_matches("0x");
    if hex.len() <= 4 {
        return u16::from_str_radix(hex, 16).map_err(|_| {
            DecodeError::Input(format!(
                "{n:?} is not a characteristic: give a 16-bit UUID such as 2a18, or sfloat"
            ))
        });
    }
    let uuid = uuid::Uuid::parse_str(n)
        .map_err(|e| DecodeError::Input(format!("{n:?} is not a UUID: {e}")))?;
    short_uuid(uuid)
        .ok_or_else(|| DecodeError::Input(format!("{uuid} is not a Bluetooth SIG characteristic")))
}

/// [`describe`] rendered as one JSON object.
pub fn to_json(fields: &Fields) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&json_str(k));
        s.push(':');
        write_value(&mut s, v);
    }
    s.push('}');
    s
}

fn write_value(s: &mut String, v: &Field) {
    match v {
        Field::Null => s.push_str("null"),
        Field::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Field::Int(i) => s.push_str(&i.to_string()),
        Field::Num(n) if n.is_finite() => s.push_str(&format!("{n}")),
        Field::Num(_) => s.push_str("null"),
        Field::Str(t) => s.push_str(&json_str(t)),
        Field::List(l) => {
            s.push('[');
            s.push_str(&l.iter().map(|x| json_str(x)).collect::<Vec<_>>().join(","));
            s.push(']');
        }
        Field::Objects(o) => {
            s.push('[');
            s.push_str(&o.iter().map(to_json).collect::<Vec<_>>().join(","));
            s.push(']');
        }
    }
}

fn json_str(t: &str) -> String {
    let mut out = String::with_capacity(t.len() + 2);
    out.push('"');
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `ilot ble decode CHAR HEX` in one call: hex text in, JSON out.
pub fn decode_to_json(characteristic: &str, hex: &str) -> Result<String, DecodeError> {
    let bytes = super::parse_hex(hex)?;
    describe(characteristic, &bytes).map(|f| to_json(&f))
}
