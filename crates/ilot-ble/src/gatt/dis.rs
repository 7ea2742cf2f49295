//! Device Information Service (0x180A): manufacturer (0x2A29), model (0x2A24) and serial number
//! (0x2A25) strings, and the stable device id built from them.

use ilot_domain::DeviceId;

use crate::error::DecodeError;

/// The three Device Information strings Ilot reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
}

impl DeviceInfo {
    /// A UTF-8 string characteristic; devices often pad with NUL bytes, which are dropped.
    pub fn decode_string(frame: &'static str, bytes: &[u8]) -> Result<String, DecodeError> {
        let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        std::str::from_utf8(&bytes[..end])
            .map(|s| s.trim().to_string())
            .map_err(|e| DecodeError::BadValue {
                frame,
                field: "utf-8 string",
                offset: e.valid_up_to(),
                value: u32::from(bytes[e.valid_up_to()]),
                reason: "is not valid UTF-8",
            })
    }
}

/// `manufacturer:model:serial`, lowercase except the serial, with `:` and blanks inside a part
/// replaced by `-` so the id splits back into its three parts. The serial is what makes two meters
/// of the same model different: without it there is no stable id, and the caller must fall back
/// to something it can justify (the link layer uses the Bluetooth address).
pub fn device_id(info: &DeviceInfo) -> Result<DeviceId, DecodeError> {
    let part = |s: &Option<String>, lower: bool| -> Option<String> {
        let s = s
            .as_deref()?
            .trim_matches(|c: char| c.is_whitespace() || c.is_control());
        if s.is_empty() {
            return None;
        }
        let cleaned: String = s
            .split(|c: char| c.is_whitespace() || c.is_control() || c == ':')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        Some(if lower {
            cleaned.to_lowercase()
        } else {
            cleaned
        })
    };
    let serial = part(&info.serial, false).ok_or_else(|| {
        DecodeError::Input("the device gives no serial number (0x2A25); it cannot be told apart from another of its model".into())
    })?;
    let manufacturer = part(&info.manufacturer, true).unwrap_or_else(|| "unknown".into());
    let model = part(&info.model, true).unwrap_or_else(|| "unknown".into());
    DeviceId::new(format!("{manufacturer}:{model}:{serial}"))
        .map_err(|e| DecodeError::Input(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_stable_id() {
        let info = DeviceInfo {
            manufacturer: Some("Roche Diabetes Care".into()),
            model: Some("Accu-Chek Guide".into()),
            serial: Some(" 92301234\u{0}".into()),
        };
        assert_eq!(
            device_id(&info).unwrap().as_str(),
            "roche-diabetes-care:accu-chek-guide:92301234"
        );
    }

    #[test]
    fn strings_drop_nul_padding() {
        assert_eq!(
            DeviceInfo::decode_string("x", b"Contour\0\0").unwrap(),
            "Contour"
        );
        assert!(DeviceInfo::decode_string("x", &[0xff, 0x41]).is_err());
    }

    #[test]
    fn no_serial_is_an_error() {
        assert!(device_id(&DeviceInfo::default()).is_err());
    }
}
