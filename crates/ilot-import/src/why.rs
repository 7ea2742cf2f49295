//! Why a row is refused: a stable code and the values a translated sentence needs (the app says
//! it in the patient's language from its catalogue, `import.why.<code>`, or `error.<code>` for
//! the domain's own refusals), and the English sentence the CLI prints.

use ilot_domain::DomainError;
use serde_json::{Value, json};

/// A refusal of one row, before it is given its line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Why {
    pub code: &'static str,
    pub params: Value,
    pub text: String,
}

pub(crate) type Made<T> = std::result::Result<T, Why>;

/// Every code an import can give besides the domain's (`DomainError::code_and_params`): the
/// app's catalogue has `import.why.<code>` for each (checked by its i18n test).
pub const CODES: &[&str] = &[
    "csv-row",
    "time-unreadable",
    "date-invalid",
    "date-order-unknown",
    "time-gap",
    "record-type-unknown",
    "no-value",
    "unknown-word",
    "servings",
    "calculator-changed",
    "duration-unreadable",
    "source-invalid",
];

impl Why {
    pub fn new(code: &'static str, params: Value, text: impl Into<String>) -> Self {
        debug_assert!(CODES.contains(&code), "{code} is not in why::CODES");
        Self {
            code,
            params,
            text: text.into(),
        }
    }

    /// A row the CSV reader could not split (a quote not closed, more fields than the header).
    pub fn csv_row(e: &csv::Error) -> Self {
        Self::new("csv-row", Value::Null, format!("unreadable CSV row: {e}"))
    }

    /// A time the file writes in a way that cannot be read.
    pub fn time(value: &str, expected: &str) -> Self {
        Self::new(
            "time-unreadable",
            json!({ "value": value }),
            format!("cannot read the time {value:?}{expected}"),
        )
    }

    /// A row of this kind without the value it needs; `what` is the domain's English name.
    pub fn no_value(what: &'static str, text: impl Into<String>) -> Self {
        Self::new("no-value", json!({ "what": what }), text)
    }

    /// A word of the vendor's vocabulary this version does not know.
    pub fn unknown_word(word: &str, text: impl Into<String>) -> Self {
        Self::new("unknown-word", json!({ "word": word }), text)
    }
}

impl From<DomainError> for Why {
    fn from(e: DomainError) -> Self {
        let (code, params) = e.code_and_params();
        Self {
            code,
            params,
            text: e.to_string(),
        }
    }
}
