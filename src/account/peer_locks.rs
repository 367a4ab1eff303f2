//! The locks that serialize operations on one peer: a fixed set of stripes picked by a hash
//! of the address. Relay-supplied addresses therefore cost no memory (a lock per address
//! would grow with every address ever seen); two peers that share a stripe only wait for
//! each other, and the store serializes commits anyway.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use super::Address;

const STRIPES: usize = 64;

pub(crate) struct PeerLocks {
    stripes: [Mutex<()>; STRIPES],
    hasher: RandomState,
}

impl PeerLocks {
    pub(crate) fn new() -> Self {
        Self {
            stripes: std::array::from_fn(|_| Mutex::new(())),
            hasher: RandomState::new(),
        }
    }

    fn stripe(&self, peer: &Address) -> usize {
        // The remainder of a division by 64 fits any usize.
        usize::try_from(self.hasher.hash_one(peer) % STRIPES as u64).unwrap_or(0)
    }

    fn guard(&self, stripe: usize) -> Option<MutexGuard<'_, ()>> {
        // A poisoned stripe still serializes; the data it guards is the store's.
        self.stripes
            .get(stripe)
            .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Holds the lock of `peer`.
    pub(crate) fn lock(&self, peer: &Address) -> Option<MutexGuard<'_, ()>> {
        self.guard(self.stripe(peer))
    }

    /// Holds the locks of all `peers`, taken in a fixed order (so two batches cannot
    /// deadlock) and each once (two peers may share a stripe).
    pub(crate) fn lock_all<'a>(
        &self,
        peers: impl Iterator<Item = &'a Address>,
    ) -> Vec<MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = peers.map(|p| self.stripe(p)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        stripes.into_iter().filter_map(|s| self.guard(s)).collect()
    }
}
