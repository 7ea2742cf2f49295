//! Fixed-window counters that refuse guessing: enrolment codes have 45 random bits, and a
//! bounded number of attempts per client address and per code prefix keeps brute force hopeless.
//!
//! The counters live in each node's memory. Behind a load balancer with N nodes the limits are
//! N times looser; the PostgreSQL deployment should move them to the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many attempts a key may make per window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub attempts: u32,
    pub window: Duration,
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `Err(seconds to wait)` when `key` already used up its attempts in the current window.
    pub fn check(&self, key: &str, limit: Limit, now: Instant) -> Result<(), u64> {
        let map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some(&(start, n))
                if now.duration_since(start) < limit.window && n >= limit.attempts =>
            {
                let left = limit.window - now.duration_since(start);
                Err(left.as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts one attempt for `key`.
    pub fn hit(&self, key: &str, limit: Limit, now: Instant) {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Forget closed windows now and then so the map does not grow without end.
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < limit.window);
        }
        let e = map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(e.0) >= limit.window {
            *e = (now, 0);
        }
        e.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_and_forgets_after_the_window() {
        let r = RateLimiter::default();
        let l = Limit {
            attempts: 3,
            window: Duration::from_secs(60),
        };
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(r.check("a", l, t0).is_ok());
            r.hit("a", l, t0);
        }
        assert_eq!(r.check("a", l, t0 + Duration::from_secs(10)), Err(50));
        assert!(r.check("b", l, t0).is_ok(), "another key has its own count");
        assert!(r.check("a", l, t0 + Duration::from_secs(60)).is_ok());
    }
}
