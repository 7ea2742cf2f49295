//! The meter or CGM behind readings, as the HL7 Personal Health Device IG's `PhdDevice`
//! (<http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice>, the profile the ANS glucose
//! profile's `Observation.device` targets). Ilot knows a device by the id it was read or imported
//! with; a Bluetooth address also becomes the PHD IG's `BTMAC` identifier.

use serde_json::{Value, json};

use crate::{DeviceId, ReadingType};

pub const PHD_DEVICE: &str = "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice";
/// ISO/IEEE 11073-10101 nomenclature (MDC).
const MDC: &str = "urn:iso:std:iso:11073:10101";
/// Where Ilot's own device ids live (`Device.identifier.system`, `ifNoneExist`).
pub const ILOT_DEVICE: &str = "urn:ilot:device";
const CONTINUA_IDS: &str = "http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers";
const BT_EUI48: &str = "http://hl7.org/fhir/sid/eui-48/bluetooth";

/// What kind of personal health device produced a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A blood glucose meter (IEEE 11073-10417).
    Meter,
    /// A continuous or flash glucose monitor (IEEE 11073-10425).
    Cgm,
}

impl DeviceKind {
    pub fn of(t: ReadingType) -> Self {
        match t {
            ReadingType::Interstitial | ReadingType::Scan => Self::Cgm,
            ReadingType::Capillary | ReadingType::Lab => Self::Meter,
        }
    }

    /// MDC_DEV_SPEC_PROFILE_* (528384 + the 11073-104xx specialization number).
    fn specialization(self) -> (&'static str, &'static str) {
        match self {
            Self::Meter => ("528401", "MDC_DEV_SPEC_PROFILE_GLUCOSE: Glucose meter"),
            Self::Cgm => (
                "528409",
                "MDC_DEV_SPEC_PROFILE_CGM: Continuous glucose monitor",
            ),
        }
    }
}

/// A Bluetooth address written `AA:BB:CC:DD:EE:FF` (or with dashes), as the PHD IG writes it:
/// upper-case hex pairs joined by dashes.
fn bluetooth_address(id: &str) -> Option<String> {
    let parts: Vec<&str> = id.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    ok.then(|| parts.join("-").to_ascii_uppercase())
}

/// The `PhdDevice` resource for `id` (without `id`/`fullUrl`, set by the bundle).
pub fn phd_device(id: &DeviceId, kind: DeviceKind) -> Value {
    let mut identifiers = vec![json!({ "system": ILOT_DEVICE, "value": id.as_str() })];
    if let Some(mac) = bluetooth_address(id.as_str()) {
        identifiers.push(json!({
            "type": { "coding": [{ "system": CONTINUA_IDS, "code": "BTMAC" }] },
            "system": BT_EUI48,
            "value": mac,
        }));
    }
    let (code, text) = kind.specialization();
    json!({
        "resourceType": "Device",
        "meta": { "profile": [PHD_DEVICE] },
        "identifier": identifiers,
        "deviceName": [{ "name": id.as_str(), "type": "user-friendly-name" }],
        "type": {
            "coding": [{ "system": MDC, "code": "65573", "display": "MDC_MOC_VMS_MDS_SIMP" }],
            "text": "MDC_MOC_VMS_MDS_SIMP",
        },
        "specialization": [{
            "systemType": { "coding": [{ "system": MDC, "code": code }], "text": text },
        }],
    })
}

/// `ifNoneExist` of the feed's conditional create: `identifier=urn:ilot:device|<id>`, the id
/// percent-encoded as a query value.
pub fn if_none_exist(id: &DeviceId) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b':');
    format!(
        "identifier={ILOT_DEVICE}|{}",
        utf8_percent_encode(id.as_str(), VALUE)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bluetooth_address_is_also_the_phd_btmac_identifier() {
        let d = phd_device(
            &DeviceId::new("c4:7c:8d:6a:1b:02").unwrap(),
            DeviceKind::Meter,
        );
        assert_eq!(d["identifier"][1]["value"], "C4-7C-8D-6A-1B-02");
        assert_eq!(
            d["specialization"][0]["systemType"]["coding"][0]["code"],
            "528401"
        );
        let d = phd_device(&DeviceId::new("csv:libre 1.csv").unwrap(), DeviceKind::Cgm);
        assert_eq!(d["identifier"].as_array().unwrap().len(), 1);
        assert_eq!(
            d["specialization"][0]["systemType"]["coding"][0]["code"],
            "528409"
        );
        assert_eq!(
            if_none_exist(&DeviceId::new("csv:libre 1.csv").unwrap()),
            "identifier=urn:ilot:device|csv:libre%201.csv"
        );
    }
}
