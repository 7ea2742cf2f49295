//! Episodes of readings that meet a per-reading condition, following [`crate::episodes`]' rules.
//!
//! `episodes` takes one threshold, but alerts need conditions that depend on the reading: the
//! hypo threshold differs for capillary and CGM readings (gestational: 60 vs 63), and the
//! gestational target depends on the meal context. So each reading is first marked as qualifying
//! (LO or HI, which always qualify) or not, the marked copy goes through `episodes` — same 15-minute
//! CGM rule, same capillary closing rule, same merging of the two streams — and the real extreme
//! is then read back from the original readings. This never changes a reading; it only decides
//! which ones qualify.

use chrono::{DateTime, Utc};

use crate::episodes::{Direction, episodes};
use crate::input::{EntryRef, GlucosePoint, Level};

/// Which side of the condition the episode is on: decides which reading is the extreme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Extreme = nadir.
    Low,
    /// Extreme = peak.
    High,
}

/// An episode with its real extreme.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub extreme: Level,
    pub extreme_id: EntryRef,
    pub readings: Vec<EntryRef>,
    /// Time of the last qualifying reading.
    pub last_at: DateTime<Utc>,
}

/// Episodes of the readings for which `qualifies` holds.
pub fn runs(
    points: &[GlucosePoint],
    side: Side,
    qualifies: impl Fn(&GlucosePoint) -> bool,
) -> Vec<Run> {
    let (mark, direction) = match side {
        Side::Low => (Level::Lo, Direction::Below(f64::MIN)),
        Side::High => (Level::Hi, Direction::Above(f64::MAX)),
    };
    // 0 mg/dL is neither below f64::MIN nor above f64::MAX: it never qualifies.
    let marked: Vec<GlucosePoint> = points
        .iter()
        .enumerate()
        .map(|(i, p)| GlucosePoint {
            id: i as EntryRef,
            level: if qualifies(p) { mark } else { Level::MgDl(0.0) },
            ..*p
        })
        .collect();
    episodes(&marked, direction)
        .into_iter()
        .filter_map(|e| {
            let members: Vec<&GlucosePoint> = e
                .readings
                .iter()
                .filter_map(|&i| points.get(usize::try_from(i).ok()?))
                .collect();
            let mut extreme = *members.first()?;
            for &p in &members[1..] {
                let more = match side {
                    Side::Low => rank(p.level) < rank(extreme.level),
                    Side::High => rank(p.level) > rank(extreme.level),
                };
                if more {
                    extreme = p;
                }
            }
            Some(Run {
                start: e.start,
                end: e.end,
                extreme: extreme.level,
                extreme_id: extreme.id,
                readings: members.iter().map(|p| p.id).collect(),
                last_at: members.last().map_or(e.start, |p| p.at),
            })
        })
        .collect()
}

/// Orders LO below every number and HI above every number.
fn rank(level: Level) -> f64 {
    match level {
        Level::Lo => f64::NEG_INFINITY,
        Level::MgDl(v) => v,
        Level::Hi => f64::INFINITY,
    }
}
