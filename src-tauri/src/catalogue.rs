//! The UI's message catalogue (`ui/src/i18n/{fr,en}.json`), read by the shell for the few texts
//! it shows itself (desktop notifications from the background scheduler): one catalogue for
//! every user-facing string, French first.

use std::sync::OnceLock;

use serde_json::{Map, Value};

const FR: &str = include_str!("../../ui/src/i18n/fr.json");
const EN: &str = include_str!("../../ui/src/i18n/en.json");

fn table(lang: &str) -> &'static Map<String, Value> {
    static FR_T: OnceLock<Map<String, Value>> = OnceLock::new();
    static EN_T: OnceLock<Map<String, Value>> = OnceLock::new();
    let (cell, src) = if lang == "en" {
        (&EN_T, EN)
    } else {
        (&FR_T, FR)
    };
    // The catalogue is compiled in and checked by the UI's tests; an unreadable one is a build
    // defect, so an empty table (keys shown as such) is the honest fallback.
    cell.get_or_init(|| serde_json::from_str(src).unwrap_or_default())
}

/// The message `key` in `lang` (`fr` unless `en`), with `{name}` placeholders replaced. A key
/// missing from the catalogue comes back as itself, visibly.
pub fn text(lang: &str, key: &str, values: &[(&str, String)]) -> String {
    let Some(Value::String(s)) = table(lang).get(key) else {
        return key.to_string();
    };
    values.iter().fold(s.clone(), |acc, (name, v)| {
        acc.replace(&format!("{{{name}}}"), v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_from_the_ui_catalogue_in_both_languages() {
        assert_eq!(
            text("fr", "alert.missed-insulin", &[]),
            "Insuline lente non notée"
        );
        assert_ne!(
            text("en", "alert.missed-insulin", &[]),
            text("fr", "alert.missed-insulin", &[])
        );
        assert_eq!(
            text("de", "alert.missed-insulin", &[]),
            text("fr", "alert.missed-insulin", &[])
        );
        assert_eq!(text("fr", "no.such.key", &[]), "no.such.key");
    }

    #[test]
    fn placeholders_are_filled() {
        let s = text(
            "fr",
            "reminder.readings.body",
            &[("done", "1".into()), ("asked", "4".into())],
        );
        assert!(
            s.contains('1') && s.contains('4') && !s.contains('{'),
            "{s}"
        );
    }
}
