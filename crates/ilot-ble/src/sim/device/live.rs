//! The simulated CGM measuring live: reading `k` (1, 2, …) is taken `k` periods after
//! [`SimDevice::with_live`], stored in the device's memory (so the RACP can report it) and
//! notified when a collector is connected and subscribed. Outages, unsent and malformed
//! notifications are scripted by reading number, so tests in paused time are exact.
//!
//! Time is caught up lazily on every call into the device: nothing runs in the background.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;

use super::{Queued, Sent, SimDevice, cgm_stored};
use crate::gatt::SFloat;
use crate::sim::{CgmRecord, Quirk, wave};

/// What the live sensor does, by reading number `k` (the first live reading is 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveScript {
    /// Minutes between readings (the time offsets step by this).
    pub every_min: u16,
    /// How long one interval lasts on the runtime clock (normally `every_min` minutes).
    pub period: Duration,
    /// Out of reach for readings `first..=last`: the link drops just before `first` is measured
    /// and a connection succeeds again once `last` has been measured (it was not notified).
    pub outages: Vec<(u32, u32)>,
    /// Readings stored but never notified (a missed notification on a live link).
    pub unsent: Vec<u32>,
    /// Readings stored intact but notified cut short by three bytes (a malformed frame).
    pub malformed: Vec<u32>,
}

impl LiveScript {
    /// A reading every `every_min` minutes, no incident.
    pub fn every(every_min: u16) -> Self {
        Self {
            every_min,
            period: Duration::from_secs(60 * u64::from(every_min)),
            outages: Vec::new(),
            unsent: Vec::new(),
            malformed: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub(super) struct LiveSim {
    script: LiveScript,
    origin: Instant,
    origin_host: DateTime<Utc>,
    first_offset: u16,
    next_k: u32,
}

impl LiveSim {
    fn due(&self, k: u32) -> Instant {
        self.origin + self.script.period * k
    }

    fn reading(&self, k: u32) -> Option<CgmRecord> {
        let step = u32::from(self.script.every_min);
        let offset = u32::from(self.first_offset) + k * step;
        let offset = u16::try_from(offset).ok()?;
        Some(CgmRecord {
            offset_min: offset,
            mg_dl: SFloat::Value {
                mantissa: wave(u32::from(offset) / step.max(1)),
                exponent: 0,
            },
            trend: Some(SFloat::Value {
                mantissa: 5,
                exponent: -1,
            }),
        })
    }
}

impl SimDevice {
    /// Starts measuring live from now (runtime clock): reading `k` gets the time offset of the
    /// last stored record + `k × every_min` (a CGM only; a meter ignores this).
    pub fn with_live(mut self, script: LiveScript) -> Self {
        let first_offset = self.records.last().map_or(0, |r| r.number);
        self.live = Some(LiveSim {
            script,
            origin: Instant::now(),
            origin_host: self.host_now,
            first_offset,
            next_k: 1,
        });
        self
    }

    pub(super) fn next_live_due(&self) -> Option<Instant> {
        self.live.as_ref().map(|l| l.due(l.next_k))
    }

    /// Whether a collector can connect now (not inside a scripted outage).
    pub(super) fn reachable(&self) -> bool {
        let Some(l) = &self.live else { return true };
        let now = Instant::now();
        !l.script
            .outages
            .iter()
            .any(|&(a, b)| now >= l.due(a) && now < l.due(b))
    }

    /// Measures every reading due by now, in order.
    pub(super) fn catch_up(&mut self) {
        let Some(live) = self.live.take() else {
            return;
        };
        let now = Instant::now();
        let mut l = live;
        while l.due(l.next_k) <= now {
            let k = l.next_k;
            l.next_k += 1;
            if self.connected && l.script.outages.iter().any(|&(a, _)| a == k) {
                self.connected = false;
                self.queue.clear();
                self.pending_drop = true;
            }
            let Some(rec) = l.reading(k) else {
                // The 16-bit time offset is exhausted: the session is over.
                continue;
            };
            let stored = cgm_stored(&rec);
            let notify = self.connected
                && self.subscribed.contains(&self.measurement)
                && !l.script.unsent.contains(&k);
            if notify {
                for (uuid, bytes) in &stored.frames {
                    let mut bytes = bytes.clone();
                    if l.script.malformed.contains(&k) {
                        bytes.truncate(bytes.len().saturating_sub(3));
                    }
                    if self.quirks.contains(&Quirk::Duplicates) {
                        self.push(Queued::Frame(*uuid, bytes.clone(), Sent::Live));
                    }
                    self.push(Queued::Frame(*uuid, bytes, Sent::Live));
                }
            }
            self.records.push(stored);
            let elapsed = l.due(k) - l.origin;
            self.host_now = l.origin_host + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX);
        }
        self.live = Some(l);
    }
}
