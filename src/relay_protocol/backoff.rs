//! Reconnection delays: `min(2^attempt * base, max) + random(0, jitter)` milliseconds, so
//! that many clients losing the relay at once come back as a wave, not a spike.

use rand_core::Rng;

/// The backoff schedule of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay of the first retry before jitter, in milliseconds.
    pub base_ms: u64,
    /// Largest delay before jitter, in milliseconds.
    pub max_ms: u64,
    /// Largest random addition, in milliseconds (0 for none).
    pub jitter_ms: u64,
}

impl Default for Backoff {
    /// 250 ms doubling up to 30 s, plus up to 1 s of jitter.
    fn default() -> Self {
        Self {
            base_ms: 250,
            max_ms: 30_000,
            jitter_ms: 1_000,
        }
    }
}

impl Backoff {
    /// The delay before reconnection attempt number `attempt` (0 for the first retry).
    pub fn delay_ms<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> u64 {
        let factor = 1u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX);
        let exp = factor.saturating_mul(self.base_ms).min(self.max_ms);
        let jitter = match self.jitter_ms {
            0 => 0,
            j => rng.next_u64() % j.saturating_add(1),
        };
        exp.saturating_add(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os_rng;
    use proptest::prelude::*;

    #[test]
    fn doubles_then_caps_without_jitter() {
        let b = Backoff {
            base_ms: 100,
            max_ms: 1_000,
            jitter_ms: 0,
        };
        let mut rng = os_rng();
        let delays: Vec<u64> = (0..6).map(|a| b.delay_ms(a, &mut rng)).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(b.delay_ms(u32::MAX, &mut rng), 1_000);
    }

    #[test]
    fn jitter_spreads_clients_out() {
        let b = Backoff {
            base_ms: 100,
            max_ms: 1_000,
            jitter_ms: 5_000,
        };
        let mut rng = os_rng();
        let delays: std::collections::BTreeSet<u64> =
            (0..200).map(|_| b.delay_ms(0, &mut rng)).collect();
        // 200 draws from 5001 values: far more than a handful distinct.
        assert!(delays.len() > 150, "{}", delays.len());
    }

    proptest! {
        #[test]
        fn delay_stays_within_bounds(attempt in 0u32..100, base in 0u64..10_000, max in 0u64..100_000, jitter in 0u64..10_000) {
            let b = Backoff { base_ms: base, max_ms: max, jitter_ms: jitter };
            let d = b.delay_ms(attempt, &mut os_rng());
            let floor = (base.saturating_mul(1u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX))).min(max);
            prop_assert!(d >= floor && d <= floor + jitter);
        }
    }
}
