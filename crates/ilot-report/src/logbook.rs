//! The logbook grid of a patient on a meter: each shown day, the fingerstick readings in each
//! meal context (in the order `MealContext::ALL` gives), as a paper logbook has them.

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use ilot_domain::MealContext;
use ilot_rules::{GlucosePoint, Level};
use serde::Serialize;

/// One day of the logbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogDay {
    pub date: NaiveDate,
    /// One cell per `MealContext::ALL` entry: the readings' local times and levels, oldest first.
    pub cells: Vec<Vec<(NaiveTime, Level)>>,
}

/// The capillary readings of the report's days by meal context.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Logbook {
    pub days: Vec<LogDay>,
}

impl Logbook {
    /// The non-CGM readings among `points` whose local date is one of `dates`.
    pub fn of(points: &[GlucosePoint], dates: &[NaiveDate], tz: Tz) -> Self {
        let mut days: Vec<LogDay> = dates
            .iter()
            .map(|&date| LogDay {
                date,
                cells: vec![Vec::new(); MealContext::ALL.len()],
            })
            .collect();
        for p in points.iter().filter(|p| !p.cgm) {
            let local = p.at.with_timezone(&tz).naive_local();
            let Some(day) = days.iter_mut().find(|d| d.date == local.date()) else {
                continue;
            };
            let column = MealContext::ALL
                .iter()
                .position(|c| *c == p.context)
                .unwrap_or(MealContext::ALL.len() - 1);
            day.cells[column].push((local.time(), p.level));
        }
        for day in &mut days {
            for cell in &mut day.cells {
                cell.sort_by_key(|r| r.0);
            }
        }
        Self { days }
    }

    /// Readings in the grid.
    pub fn count(&self) -> usize {
        self.days.iter().flat_map(|d| &d.cells).map(Vec::len).sum()
    }
}
