//! What one device may cost the relay: frame rate, bundle fetches, queue sizes, time to
//! authenticate.

use std::time::{Duration, Instant};

use crate::backend::QueueLimits;

/// The relay's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Offline queue limits per device.
    pub queue: QueueLimits,
    /// Frames a connection may send in a burst...
    pub frame_burst: f64,
    /// ...and per second after it; beyond that the connection is closed (`Flood`).
    pub frames_per_second: f64,
    /// Bundle fetches a device may make in a burst...
    pub bundle_burst: f64,
    /// ...and per second after it; beyond that fetches are refused (`RateLimited`).
    pub bundles_per_second: f64,
    /// One-time prekeys of each kind kept per device.
    pub max_one_time_prekeys: usize,
    /// Devices bound per user.
    pub max_devices: usize,
    /// Time a new connection has to authenticate.
    pub auth_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            queue: QueueLimits::default(),
            frame_burst: 1_000.0,
            frames_per_second: 500.0,
            bundle_burst: 20.0,
            bundles_per_second: 0.2,
            max_one_time_prekeys: 500,
            max_devices: bluetick::relay_protocol::MAX_DEVICES,
            auth_timeout: Duration::from_secs(10),
        }
    }
}

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    tokens: f64,
    burst: f64,
    rate: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(burst: f64, rate: f64, now: Instant) -> Self {
        Self {
            tokens: burst,
            burst,
            rate,
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(3.0, 1.0, t0);
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(!b.take(t0 + Duration::from_millis(500)));
        assert!(b.take(t0 + Duration::from_millis(1_100)));
    }
}
