//! Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
//! Jitter"): the n-th retry waits a uniformly random time in `[0, min(max, base·2ⁿ)]`, so that
//! thousands of devices coming back online together do not hit the server in step.

use std::time::Duration;

use rand_core::RngCore;

use crate::error::{Result, SyncError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
            attempts: 6,
        }
    }
}

impl Backoff {
    /// The ceiling of the wait before retry `n` (0-based).
    pub fn ceiling(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    pub fn delay(&self, n: u32, rng: &mut impl RngCore) -> Duration {
        let ceiling = self.ceiling(n).as_millis() as u64;
        Duration::from_millis(if ceiling == 0 {
            0
        } else {
            rng.next_u64() % (ceiling + 1)
        })
    }

    /// Runs `f` until it succeeds, fails for good, or the attempts are used up. A server's
    /// `retry_after_s` is honoured when longer than the drawn delay.
    pub fn run<T>(
        &self,
        rng: &mut impl RngCore,
        mut sleep: impl FnMut(Duration),
        mut f: impl FnMut() -> Result<T>,
    ) -> Result<T> {
        let mut n = 0;
        loop {
            match f() {
                Err(e) if e.is_transient() && n + 1 < self.attempts => {
                    let mut d = self.delay(n, rng);
                    if let SyncError::Refused {
                        retry_after_s: Some(s),
                        ..
                    } = &e
                    {
                        d = d.max(Duration::from_secs(*s));
                    }
                    tracing::info!("sync failed ({e}); retrying in {d:?}");
                    sleep(d);
                    n += 1;
                }
                r => return r,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Seq(u64);
    impl RngCore for Seq {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 11
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            dst.iter_mut().for_each(|b| *b = self.next_u64() as u8);
        }
    }

    #[test]
    fn ceilings_double_up_to_the_maximum() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(10),
            attempts: 9,
        };
        let c: Vec<u64> = (0..6).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(c, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.ceiling(200), Duration::from_secs(10));
    }

    #[test]
    fn delays_stay_under_their_ceiling_and_vary() {
        let b = Backoff::default();
        let mut rng = Seq(7);
        let d: Vec<Duration> = (0..50).map(|_| b.delay(3, &mut rng)).collect();
        assert!(d.iter().all(|d| *d <= Duration::from_secs(8)));
        assert!(
            d.windows(2).any(|w| w[0] != w[1]),
            "jitter draws different waits"
        );
    }

    #[test]
    fn retries_transient_failures_only_and_stops_after_the_attempts() {
        let b = Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_secs(1),
            attempts: 4,
        };
        let mut slept = Vec::new();
        let mut calls = 0;
        let r: Result<()> = b.run(
            &mut Seq(1),
            |d| slept.push(d),
            || {
                calls += 1;
                Err(SyncError::Unreachable {
                    server: "s".into(),
                    detail: "down".into(),
                })
            },
        );
        assert!(r.is_err());
        assert_eq!((calls, slept.len()), (4, 3));

        let mut calls = 0;
        let r: Result<()> = b.run(
            &mut Seq(1),
            |_| {},
            || {
                calls += 1;
                Err(SyncError::ConsentRequired)
            },
        );
        assert!(matches!(r, Err(SyncError::ConsentRequired)));
        assert_eq!(calls, 1, "a permanent failure is not retried");
    }
}
