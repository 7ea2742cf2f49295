//! Repeated hypos: clusters of hypo events in a trailing window (SPEC §3 table, "≥ 3 level-1
//! episodes in 7 days", gestational "≥ 2"; a reported hypo is an event too). Only counts events;
//! never reads a clock.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::AlertPolicy;

use super::{Alert, AlertKind, advice, key};
use crate::input::EntryRef;

/// One alert per cluster: a cluster starts with the event that brings the count of event
/// starts in `(t − days, t]` to the policy's count, and ends when that count falls below it again
/// (the oldest starts leaving the window); only then can a new cluster, and a new alert, begin.
/// `events`: each hypo event's start and the entry that stands for it (an episode's nadir, a
/// report).
pub fn repeated_hypos(
    policy: &AlertPolicy,
    events: &[(DateTime<Utc>, EntryRef)],
    now: DateTime<Utc>,
) -> Vec<Alert> {
    let needed = policy.repeated_hypos_count.max(1) as usize;
    let window = TimeDelta::days(i64::from(policy.repeated_hypos_days));
    let mut starts: Vec<(DateTime<Utc>, u64)> = events.to_vec();
    starts.sort();

    let mut out = Vec::new();
    // The open cluster's alert, when it ends if no episode comes, and how many starts it holds.
    let mut open: Option<(Alert, DateTime<Utc>, usize)> = None;
    for k in 0..starts.len() {
        let t = starts[k].0;
        if let Some((mut alert, end, _)) = open.take_if(|(_, end, _)| t >= *end) {
            alert.ended_at = Some(end);
            out.push(alert);
        }
        let lo = starts.partition_point(|s| s.0 <= t - window);
        let hi = starts.partition_point(|s| s.0 <= t);
        let count = hi - lo;
        if count < needed {
            continue;
        }
        // The count falls below `needed` when the (count − needed + 1)-th oldest start leaves.
        let end = starts[hi - needed].0 + window;
        match &mut open {
            Some((alert, cluster_end, held)) => {
                *cluster_end = end;
                alert.count = alert.count.max(Some(count as u32));
                // Starts already in the alert are the `held` first of this cluster.
                for s in &starts[k.max(*held)..hi] {
                    alert.readings.push(s.1);
                }
                *held = hi;
            }
            None => {
                let alert = Alert {
                    readings: starts[lo..hi].iter().map(|s| s.1).collect(),
                    count: Some(count as u32),
                    ..Alert::new(
                        AlertKind::RepeatedHypos,
                        key("repeated-hypos", t),
                        t,
                        policy,
                        advice::HYPO_REPEATED,
                    )
                };
                open = Some((alert, end, hi));
            }
        }
    }
    if let Some((mut alert, end, _)) = open {
        alert.ended_at = (end <= now).then_some(end);
        out.push(alert);
    }
    out
}
