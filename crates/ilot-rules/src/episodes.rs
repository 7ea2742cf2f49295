//! Hypo- and hyperglycaemia episodes (SPEC §3): when a run of readings beyond a threshold becomes
//! an episode, and when it ends. Alerts raise one alert per episode; metrics count them.
//!
//! CGM readings (`cgm == true`) follow the consensus rule, where each reading stands for the
//! sensor's sampling interval (SPEC §3; iglu's episode calculation counts grid points the same
//! way). The interval is detected from the readings given ([`crate::sampling::cgm_interval`], the
//! median spacing, at most 15 minutes), so one rule serves 1-, 5- and 15-minute sensors:
//! - an episode starts once readings have stayed beyond the threshold for at least
//!   [`CGM_MIN_DURATION`] (15 minutes), counted as (last − first reading of the run) + one
//!   interval: three 5-minute readings, fifteen 1-minute readings, one 15-minute reading. Its
//!   `start` is the first reading of that run; a shorter run is no episode. When no interval can
//!   be detected (a single CGM time), a reading stands for nothing and the run must span 15
//!   minutes by itself;
//! - it ends once readings have stayed back on the other side for 15 minutes, counted the same
//!   way; `end` is the first reading of that recovery run. A qualifying reading during a shorter
//!   recovery keeps the episode open;
//! - consecutive CGM readings more than [`CGM_MAX_GAP`] (30 minutes) apart interrupt a run: a
//!   starting run restarts after the gap, and an open episode is closed before it, because an
//!   episode cannot be followed through missing data. Its `end` is then the first reading of the
//!   unfinished recovery run, or else the last reading before the gap. 30 minutes tolerates a few
//!   lost 5-minute packets and one missed 15-minute flash value, but not a sensor change.
//!
//! Capillary and lab readings (`cgm == false`) are point measurements: one qualifying reading
//! opens an episode, the next non-qualifying capillary reading closes it (`end` = that reading).
//! When the next capillary reading comes more than [`CAPILLARY_MAX_GAP`] (1 hour) after the last
//! qualifying one, the episode is closed at that last qualifying reading instead, as CGM episodes
//! are at a gap: two fasting lows on two mornings are two hypos (the "repeated hypos" alert counts
//! them), and a finger prick days later must not stretch one episode over every CGM low between.
//! One hour leaves room for the "re-check after 15 minutes, repeat if still low" loop (SPEC §3).
//!
//! The two streams are processed separately, then episodes that overlap are merged (a finger prick
//! confirming a CGM low is one hypo, not two). For the overlap test an episode still open covers
//! its last qualifying reading plus [`CGM_MAX_GAP`]: an open capillary episode must not swallow
//! every later CGM episode just because no finger prick followed it. A merged episode is still
//! open only if an open member's last qualifying reading is at or after every closed member's end
//! (the latest evidence is still beyond the threshold).
//!
//! Points should be sorted by time (oldest first), as [`crate::Data`] promises; unsorted input is
//! sorted (a copy), never misread. This module only classifies readings; it never raises alerts
//! and never reads a clock.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::input::{EntryRef, GlucosePoint, Level};
use crate::metrics::clock::Micros;
use crate::sampling::{cgm_interval, reading_duration};

/// How long CGM readings must stay beyond (or back from) the threshold (SPEC §3).
pub const CGM_MIN_DURATION: TimeDelta = TimeDelta::minutes(15);

/// Longest spacing between consecutive CGM readings that still counts as continuous data.
pub const CGM_MAX_GAP: TimeDelta = TimeDelta::minutes(30);

/// Longest wait for the next capillary reading that still continues or closes an episode.
pub const CAPILLARY_MAX_GAP: TimeDelta = TimeDelta::hours(1);

/// Which side of a threshold qualifies, both strict (`Level::below` / `Level::above`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Direction {
    /// Strictly below the threshold (mg/dL); LO always qualifies.
    Below(f64),
    /// Strictly above the threshold (mg/dL); HI always qualifies.
    Above(f64),
}

impl Direction {
    fn qualifies(self, level: Level) -> bool {
        match self {
            Self::Below(t) => level.below(t),
            Self::Above(t) => level.above(t),
        }
    }

    /// Whether `a` is more extreme than `b` in this direction (ties keep the earlier one).
    fn more_extreme(self, a: Level, b: Level) -> bool {
        match self {
            Self::Below(_) => rank(a) < rank(b),
            Self::Above(_) => rank(a) > rank(b),
        }
    }
}

/// Orders LO below every number and HI above every number.
fn rank(level: Level) -> f64 {
    match level {
        Level::Lo => f64::NEG_INFINITY,
        Level::MgDl(v) => v,
        Level::Hi => f64::INFINITY,
    }
}

/// One hypo- or hyperglycaemia episode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Episode {
    /// Time of the first qualifying reading.
    pub start: DateTime<Utc>,
    /// First reading of the recovery (see module doc); `None` = still ongoing at the last reading.
    pub end: Option<DateTime<Utc>>,
    /// Nadir (`Below`) or peak (`Above`).
    pub extreme: Level,
    pub extreme_at: DateTime<Utc>,
    /// The qualifying readings behind the episode, oldest first.
    pub readings: Vec<EntryRef>,
    /// True when at least one CGM run (15-minute rule) is part of the episode.
    pub cgm: bool,
}

/// An episode under construction; keeps reading times so merged episodes stay time-ordered.
#[derive(Debug, Clone)]
struct Draft {
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    extreme: Level,
    extreme_at: DateTime<Utc>,
    readings: Vec<(DateTime<Utc>, EntryRef)>,
    cgm: bool,
}

impl Draft {
    fn new(p: &GlucosePoint) -> Self {
        Self {
            start: p.at,
            end: None,
            extreme: p.level,
            extreme_at: p.at,
            readings: vec![(p.at, p.id)],
            cgm: p.cgm,
        }
    }

    fn push(&mut self, p: &GlucosePoint, dir: Direction) {
        if dir.more_extreme(p.level, self.extreme) {
            self.extreme = p.level;
            self.extreme_at = p.at;
        }
        self.readings.push((p.at, p.id));
    }

    fn last_reading(&self) -> DateTime<Utc> {
        self.readings.last().map_or(self.start, |r| r.0)
    }

    /// Up to when this episode may overlap another one (see module doc).
    fn reach(&self) -> DateTime<Utc> {
        self.end
            .unwrap_or_else(|| self.last_reading() + CGM_MAX_GAP)
    }

    fn finish(self) -> Episode {
        Episode {
            start: self.start,
            end: self.end,
            extreme: self.extreme,
            extreme_at: self.extreme_at,
            readings: self.readings.into_iter().map(|r| r.1).collect(),
            cgm: self.cgm,
        }
    }
}

/// Episodes of readings beyond `dir`'s threshold, sorted by start. See the module doc for rules.
pub fn episodes(points: &[GlucosePoint], dir: Direction) -> Vec<Episode> {
    if !points.is_sorted_by_key(|p| p.at) {
        let mut sorted = points.to_vec();
        sorted.sort_by_key(|p| p.at);
        return episodes(&sorted, dir);
    }
    let mut clock = Micros::new();
    let mut tracker = Tracker::new(dir, reading_duration(cgm_interval(points)));
    for p in points {
        tracker.feed(p, clock.of(&p.at));
    }
    tracker.finish()
}

/// Streaming episode detection, so that callers already walking the readings (metrics) can
/// detect episodes for several thresholds in the same pass: on 90 days of 1-minute data each
/// extra pass over the readings costs about as much as the detection itself.
#[derive(Debug)]
pub(crate) struct Tracker {
    dir: Direction,
    /// How long one CGM reading stands for, in microseconds.
    reading_us: i64,
    out: Vec<Draft>,
    cgm: CgmState,
    capillary: Option<(Draft, i64)>,
    has_capillary: bool,
}

/// A reading's time, and the same in microseconds since the epoch.
type Instant = (DateTime<Utc>, i64);

#[derive(Debug, Default)]
struct CgmState {
    /// A run beyond the threshold that has not lasted 15 minutes yet, with its start.
    run: Option<(Draft, i64)>,
    /// The open episode and, if readings came back, the first reading of the recovery run.
    open: Option<(Draft, Option<Instant>)>,
    prev: Option<Instant>,
}

// Durations are compared on microsecond timestamps: chrono's DateTime subtraction was a third of
// the metrics time on 90 days of 1-minute data.
const CGM_MAX_GAP_US: i64 = CGM_MAX_GAP.num_microseconds().expect("30 minutes fit");
const CGM_MIN_DURATION_US: i64 = CGM_MIN_DURATION.num_microseconds().expect("15 minutes fit");
const CAPILLARY_MAX_GAP_US: i64 = CAPILLARY_MAX_GAP.num_microseconds().expect("1 hour fits");

impl Tracker {
    /// `reading`: how long one CGM reading stands for ([`reading_duration`]).
    pub(crate) fn new(dir: Direction, reading: TimeDelta) -> Self {
        Self {
            dir,
            reading_us: reading.num_microseconds().unwrap_or(0),
            out: Vec::new(),
            cgm: CgmState::default(),
            capillary: None,
            has_capillary: false,
        }
    }

    /// Feeds the next reading (oldest first); `us` is `p.at` in microseconds since the epoch.
    pub(crate) fn feed(&mut self, p: &GlucosePoint, us: i64) {
        if p.cgm {
            self.feed_cgm(p, us);
        } else {
            self.feed_capillary(p, us);
        }
    }

    fn feed_cgm(&mut self, p: &GlucosePoint, now: i64) {
        let dir = self.dir;
        let reading_us = self.reading_us;
        let st = &mut self.cgm;
        if let Some((prev_at, prev_us)) = st.prev
            && now - prev_us > CGM_MAX_GAP_US
        {
            st.run = None;
            if let Some((mut ep, recovery)) = st.open.take() {
                ep.end = Some(recovery.map_or(prev_at, |r| r.0));
                self.out.push(ep);
            }
        }
        st.prev = Some((p.at, now));
        let qualifies = dir.qualifies(p.level);

        if let Some((ep, recovery)) = &mut st.open {
            let mut recovered_since = None;
            if qualifies {
                *recovery = None;
                ep.push(p, dir);
            } else {
                let (since, since_us) = *recovery.get_or_insert((p.at, now));
                if now - since_us + reading_us >= CGM_MIN_DURATION_US {
                    recovered_since = Some(since);
                }
            }
            if let Some(since) = recovered_since
                && let Some((mut ep, _)) = st.open.take()
            {
                ep.end = Some(since);
                self.out.push(ep);
            }
            return;
        }

        if !qualifies {
            st.run = None;
            return;
        }
        let run_start = match &mut st.run {
            Some((r, start)) => {
                r.push(p, dir);
                *start
            }
            None => {
                st.run = Some((Draft::new(p), now));
                now
            }
        };
        if now - run_start + reading_us >= CGM_MIN_DURATION_US {
            st.open = st.run.take().map(|(r, _)| (r, None));
        }
    }

    fn feed_capillary(&mut self, p: &GlucosePoint, now: i64) {
        self.has_capillary = true;
        if let Some((ep, _)) = self
            .capillary
            .take_if(|(_, last_us)| now - *last_us > CAPILLARY_MAX_GAP_US)
        {
            self.out.push(Draft {
                end: Some(ep.last_reading()),
                ..ep
            });
        }
        match (&mut self.capillary, self.dir.qualifies(p.level)) {
            (Some((ep, last_us)), true) => {
                ep.push(p, self.dir);
                *last_us = now;
            }
            (None, true) => self.capillary = Some((Draft::new(p), now)),
            (Some(_), false) => {
                if let Some((mut ep, _)) = self.capillary.take() {
                    ep.end = Some(p.at);
                    self.out.push(ep);
                }
            }
            (None, false) => {}
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Episode> {
        self.out.extend(self.cgm.open.map(|(ep, _)| ep));
        self.out.extend(self.capillary.map(|(ep, _)| ep));
        let drafts = if self.has_capillary {
            merge(self.out, self.dir)
        } else {
            self.out
        };
        drafts.into_iter().map(Draft::finish).collect()
    }
}

fn merge(mut drafts: Vec<Draft>, dir: Direction) -> Vec<Draft> {
    drafts.sort_by_key(|d| d.start);
    let mut out: Vec<Draft> = Vec::with_capacity(drafts.len());
    for d in drafts {
        match out.last_mut() {
            Some(cur) if d.start <= cur.reach() => absorb(cur, d, dir),
            _ => out.push(d),
        }
    }
    out
}

fn absorb(cur: &mut Draft, d: Draft, dir: Direction) {
    let latest_closed = [cur.end, d.end].into_iter().flatten().max();
    let latest_open_evidence = [&*cur, &d]
        .into_iter()
        .filter(|x| x.end.is_none())
        .map(Draft::last_reading)
        .max();
    cur.end = match (latest_open_evidence, latest_closed) {
        (Some(open_at), Some(closed)) if open_at < closed => Some(closed),
        (Some(_), _) => None,
        (None, closed) => closed,
    };
    if dir.more_extreme(d.extreme, cur.extreme)
        || (d.extreme == cur.extreme && d.extreme_at < cur.extreme_at)
    {
        cur.extreme = d.extreme;
        cur.extreme_at = d.extreme_at;
    }
    cur.readings.extend(d.readings);
    cur.readings.sort_by_key(|r| r.0);
    cur.cgm |= d.cgm;
}

#[cfg(test)]
mod tests;
