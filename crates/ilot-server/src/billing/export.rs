//! The monthly billing table as a CSV a French billing clerk opens in a spreadsheet without
//! fixing anything: UTF-8 with a byte-order mark (so Excel reads the accents), `;` between
//! fields, decimal commas, ISO dates, CRLF line ends (RFC 4180, what Excel writes), fields
//! quoted only when they hold `;`, a quote or a line break (quotes doubled), through the `csv`
//! crate; a free-text cell that a spreadsheet would run as a formula is written as text
//! ([`text_cell`]). The words (headers, yes/no, reasons) are the console's French catalogue
//! (`console/src/i18n/fr.json`, keys `billing.csv.*` and `billing.reason.*`), so the screen and
//! the file say the same.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::{BillingRow, MonthTable};
use crate::error::Result;

static FR: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../console/src/i18n/fr.json"))
        .expect("the console's French catalogue is a JSON object of strings")
});

/// The French words for `key` (the key itself if the catalogue lacks it; a test checks that
/// none is missing).
pub fn fr(key: &str) -> String {
    FR.get(key).cloned().unwrap_or_else(|| key.to_string())
}

/// The columns, as catalogue keys (`billing.csv.<column>`).
pub const COLUMNS: [&str; 19] = [
    "patient",
    "ins",
    "patient-id",
    "period",
    "first-day",
    "last-day",
    "expected",
    "received",
    "observance",
    "billable",
    "reasons",
    "series",
    "series-first-day",
    "series-last-day",
    "operator-code",
    "operator-amount",
    "technical-code",
    "technical-amount",
    "total",
];

/// `value` with a decimal comma and `decimals` places (display only: the JSON keeps the value).
pub fn decimal(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}").replace('.', ",")
}

/// Cents as euros with a decimal comma: 2800 → `28,00`.
pub fn euros(cents: u64) -> String {
    format!("{},{:02}", cents / 100, cents % 100)
}

/// A free-text cell (pseudonym, INS) a spreadsheet must not take for a formula: one starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice for
/// CSV injection): the cell then reads as text, the `'` visible.
pub fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn fields(r: &BillingRow) -> Vec<String> {
    let reasons: Vec<String> = r
        .reasons
        .iter()
        .map(|why| {
            let code = serde_json::to_value(why)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            fr(&format!("billing.reason.{code}"))
        })
        .collect();
    let billable = if r.billable { "yes" } else { "no" };
    vec![
        text_cell(&r.pseudonym),
        text_cell(r.ins.as_deref().unwrap_or_default()),
        r.patient_id.to_string(),
        r.number.to_string(),
        r.first_day.to_string(),
        r.last_day.to_string(),
        decimal(r.expected, 1),
        r.received.to_string(),
        r.ratio.map(|x| decimal(x * 100.0, 1)).unwrap_or_default(),
        fr(&format!("billing.csv.{billable}")),
        reasons.join(", "),
        r.series
            .as_ref()
            .map(|s| s.number.to_string())
            .unwrap_or_default(),
        r.series
            .as_ref()
            .map(|s| s.from.to_string())
            .unwrap_or_default(),
        r.series
            .as_ref()
            .map(|s| s.to.to_string())
            .unwrap_or_default(),
        if r.billable {
            super::OPERATOR_FORFAIT.code.unwrap_or_default().to_string()
        } else {
            String::new()
        },
        euros(u64::from(r.operator_cents)),
        if r.billable {
            super::TECHNICAL_FORFAIT
                .code
                .unwrap_or_default()
                .to_string()
        } else {
            String::new()
        },
        euros(u64::from(r.technical_cents)),
        euros(u64::from(r.operator_cents) + u64::from(r.technical_cents)),
    ]
}

/// The CSV bytes of `t`: a byte-order mark, the header line, one line per period.
pub fn csv(t: &MonthTable) -> Result<Vec<u8>> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(&mut out);
        let header: Vec<String> = COLUMNS
            .iter()
            .map(|c| fr(&format!("billing.csv.{c}")))
            .collect();
        w.write_record(header).map_err(csv_error)?;
        for r in &t.rows {
            w.write_record(fields(r)).map_err(csv_error)?;
        }
        w.flush().map_err(|e| csv_error(e.into()))?;
    }
    Ok(out)
}

fn csv_error(e: csv::Error) -> crate::error::ServerError {
    // Writing to memory: only a bug gets here.
    crate::error::ServerError::refused(
        ilot_wire::api::ErrorCode::Internal,
        format!("writing the billing CSV: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_the_file_uses_is_in_the_catalogue() {
        let mut keys: Vec<String> = COLUMNS.iter().map(|c| format!("billing.csv.{c}")).collect();
        keys.extend(["billing.csv.yes".into(), "billing.csv.no".into()]);
        keys.extend(
            [
                "no-prescription",
                "no-consent",
                "not-monitored",
                "in-progress",
                "interrupted",
                "previous-insufficient",
                "previous-interrupted",
                "no-accompaniment",
            ]
            .map(|r| format!("billing.reason.{r}")),
        );
        let missing: Vec<&String> = keys.iter().filter(|k| !FR.contains_key(*k)).collect();
        assert!(missing.is_empty(), "missing in fr.json: {missing:?}");
    }

    #[test]
    fn a_pseudonym_is_never_a_formula() {
        assert_eq!(
            text_cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for s in ["+33", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(text_cell(s).starts_with('\''), "{s:?}");
        }
        assert_eq!(text_cell("Dupont; \"Jo\""), "Dupont; \"Jo\"");
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn numbers_take_a_decimal_comma() {
        assert_eq!(decimal(4233.6, 1), "4233,6");
        assert_eq!(decimal(50.0, 1), "50,0");
        assert_eq!(euros(2800), "28,00");
        assert_eq!(euros(5005), "50,05");
        assert_eq!(euros(0), "0,00");
    }
}
