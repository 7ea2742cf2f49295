//! The rules' results as the charts draw them: the patient app and the care team's console take
//! the same JSON, so both are made here, once. Glucose stays canonical mg/dL (or LO/HI without
//! a number); each screen converts to the reader's unit for display only.

use serde::Serialize;

use crate::Level;
use crate::agp::Agp;

/// A glucose as the charts draw it: `mg_dl` is `None` for LO/HI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reading {
    pub mg_dl: Option<f64>,
    /// `value`, `lo` or `hi`.
    pub level: &'static str,
}

impl From<Level> for Reading {
    fn from(l: Level) -> Self {
        match l {
            Level::MgDl(v) => Self {
                mg_dl: Some(v),
                level: "value",
            },
            Level::Lo => Self {
                mg_dl: None,
                level: "lo",
            },
            Level::Hi => Self {
                mg_dl: None,
                level: "hi",
            },
        }
    }
}

/// One AGP bin as the charts take it; the percentiles are `None` for an empty bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgpPoint {
    /// Start of the bin, in minutes after local midnight.
    pub minute: u32,
    /// Readings in the bin (LO and HI included).
    pub n: usize,
    pub p5: Option<Reading>,
    pub p25: Option<Reading>,
    pub p50: Option<Reading>,
    pub p75: Option<Reading>,
    pub p95: Option<Reading>,
}

/// The AGP's bins as chart points, in bin order.
pub fn agp_points(agp: Agp) -> Vec<AgpPoint> {
    agp.bins
        .into_iter()
        .map(|b| {
            let p = b.percentiles;
            AgpPoint {
                minute: b.start_minute,
                n: b.n,
                p5: p.map(|p| p.p5.into()),
                p25: p.map(|p| p.p25.into()),
                p50: p.map(|p| p.p50.into()),
                p75: p.map(|p| p.p75.into()),
                p95: p.map(|p| p.p95.into()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agp::{AgpBin, Percentiles};

    #[test]
    fn lo_and_hi_have_no_number_and_an_empty_bin_no_percentiles() {
        let p = Percentiles {
            p5: Level::Lo,
            p25: Level::MgDl(70.5),
            p50: Level::MgDl(120.0),
            p75: Level::MgDl(180.25),
            p95: Level::Hi,
        };
        let agp = Agp {
            tz: chrono_tz::Europe::Paris,
            bin_minutes: 15,
            bins: vec![
                AgpBin {
                    start_minute: 0,
                    n: 7,
                    percentiles: Some(p),
                },
                AgpBin {
                    start_minute: 15,
                    n: 0,
                    percentiles: None,
                },
            ],
        };
        let points = agp_points(agp);
        let json = serde_json::to_value(&points).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                { "minute": 0, "n": 7,
                  "p5": { "mg_dl": null, "level": "lo" },
                  "p25": { "mg_dl": 70.5, "level": "value" },
                  "p50": { "mg_dl": 120.0, "level": "value" },
                  "p75": { "mg_dl": 180.25, "level": "value" },
                  "p95": { "mg_dl": null, "level": "hi" } },
                { "minute": 15, "n": 0,
                  "p5": null, "p25": null, "p50": null, "p75": null, "p95": null }
            ])
        );
    }
}
