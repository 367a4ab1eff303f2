//! Message keys skipped over and kept for late messages, bounded by `MAX_STORED_SKIPPED`
//! (the oldest is dropped first, and erased).
//!
//! Keys are kept in runs: consecutive keys of one sender ratchet key with rising message
//! numbers, which is how skipping produces them. A late message then costs a scan over the
//! runs (one per receiving chain with gaps, usually one or two) and a binary search in one
//! run, instead of a scan over up to 2000 keys.

use std::collections::VecDeque;

use crate::constants::MAX_STORED_SKIPPED;

use super::message_key::MessageKey;

/// One skipped key, indexed by the sender's ratchet public key and the message number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SkippedKey {
    pub(crate) ratchet_key: [u8; 32],
    pub(crate) key: MessageKey,
}

/// Where a stored key is: its run and its place in the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    run: usize,
    key: usize,
}

/// Keys of one ratchet key, message numbers strictly rising.
#[derive(Clone, Debug)]
struct Run {
    ratchet_key: [u8; 32],
    keys: VecDeque<MessageKey>,
}

/// Skipped keys in the order they were skipped.
#[derive(Clone, Debug, Default)]
pub(crate) struct SkippedKeys {
    runs: VecDeque<Run>,
}

impl SkippedKeys {
    /// The position of the key for message `n` of the chain of `ratchet_key`; the oldest
    /// such key if a record holds more than one.
    pub(crate) fn find(&self, ratchet_key: &[u8; 32], n: u32) -> Option<(Position, &MessageKey)> {
        self.runs
            .iter()
            .enumerate()
            .filter(|(_, run)| &run.ratchet_key == ratchet_key)
            .find_map(|(r, run)| {
                let k = run.keys.binary_search_by_key(&n, |k| k.index).ok()?;
                let key = run.keys.get(k)?;
                Some((Position { run: r, key: k }, key))
            })
    }

    /// Whether any stored key belongs to the chain of `ratchet_key`.
    pub(crate) fn has_chain(&self, ratchet_key: &[u8; 32]) -> bool {
        self.runs.iter().any(|run| &run.ratchet_key == ratchet_key)
    }

    /// Removes (and erases) the key at `position`, as returned by `find` with no change
    /// in between.
    pub(crate) fn remove(&mut self, position: Position) {
        let Some(run) = self.runs.get_mut(position.run) else {
            return;
        };
        run.keys.remove(position.key);
        if run.keys.is_empty() {
            self.runs.remove(position.run);
        }
    }

    /// Adds keys, dropping the oldest beyond the limit.
    pub(crate) fn extend(&mut self, keys: impl IntoIterator<Item = SkippedKey>) {
        for SkippedKey { ratchet_key, key } in keys {
            self.push(ratchet_key, key);
        }
        for _ in 0..self.len().saturating_sub(MAX_STORED_SKIPPED) {
            self.pop_oldest();
        }
    }

    /// Appends to the newest run when the key continues it, else starts a run.
    fn push(&mut self, ratchet_key: [u8; 32], key: MessageKey) {
        if let Some(run) = self.runs.back_mut() {
            let continues = run.keys.back().is_some_and(|last| last.index < key.index);
            if continues && run.ratchet_key == ratchet_key {
                run.keys.push_back(key);
                return;
            }
        }
        self.runs.push_back(Run {
            ratchet_key,
            keys: VecDeque::from([key]),
        });
    }

    fn pop_oldest(&mut self) {
        let Some(run) = self.runs.front_mut() else {
            return;
        };
        run.keys.pop_front();
        if run.keys.is_empty() {
            self.runs.pop_front();
        }
    }

    /// The keys grouped by ratchet key, groups in the order of their oldest key, each
    /// group's keys in rising message numbers (runs of one ratchet key are one group).
    pub(crate) fn groups(&self) -> Vec<([u8; 32], Vec<&MessageKey>)> {
        let mut groups: Vec<([u8; 32], Vec<&MessageKey>)> = Vec::new();
        for run in &self.runs {
            match groups.iter_mut().find(|(k, _)| *k == run.ratchet_key) {
                Some((_, keys)) => keys.extend(run.keys.iter()),
                None => groups.push((run.ratchet_key, run.keys.iter().collect())),
            }
        }
        groups
    }

    /// Summed over the runs, which are few (one per receiving chain with gaps).
    pub(crate) fn len(&self) -> usize {
        self.runs.iter().map(|run| run.keys.len()).sum()
    }

    /// Every key with its ratchet key, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8; 32], &MessageKey)> {
        self.runs
            .iter()
            .flat_map(|run| run.keys.iter().map(move |k| (&run.ratchet_key, k)))
    }
}

/// Equal when they hold the same keys in the same order, however they are grouped.
impl PartialEq for SkippedKeys {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SkippedKeys {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::secret::Secret32;

    fn key(ratchet: u8, index: u32) -> SkippedKey {
        let mut bytes = [ratchet ^ 0x5a; 32];
        if let Some((head, _)) = bytes.split_first_chunk_mut::<4>() {
            *head = index.to_be_bytes();
        }
        SkippedKey {
            ratchet_key: [ratchet; 32],
            key: MessageKey::new(Secret32::from_array(&mut bytes), index),
        }
    }

    fn listed(s: &SkippedKeys) -> Vec<(u8, u32)> {
        s.iter().map(|(r, k)| (r[0], k.index)).collect()
    }

    #[test]
    fn finds_every_key_of_every_run_and_nothing_else() {
        let mut s = SkippedKeys::default();
        s.extend((0..5).map(|i| key(1, i)));
        s.extend((3..9).map(|i| key(2, i)));
        s.extend((10..12).map(|i| key(2, i)));
        assert_eq!(s.runs.len(), 2);
        for (r, range) in [(1u8, 0..5u32), (2, 3..9)] {
            for i in range {
                let found = s.find(&[r; 32], i).map(|(_, k)| k.clone());
                assert_eq!(found, Some(key(r, i).key));
            }
        }
        assert!(s.find(&[1; 32], 5).is_none());
        assert!(s.find(&[2; 32], 9).is_none());
        assert!(s.find(&[3; 32], 0).is_none());
    }

    #[test]
    fn removing_keeps_the_others_and_the_order() {
        let mut s = SkippedKeys::default();
        s.extend((0..3).map(|i| key(1, i)));
        s.extend((0..2).map(|i| key(2, i)));
        for (r, i) in [(1u8, 1u32), (2, 0), (2, 1)] {
            let position = s.find(&[r; 32], i).map(|(p, _)| p);
            assert!(position.is_some(), "({r}, {i}) stored");
            if let Some(p) = position {
                s.remove(p);
            }
            assert!(s.find(&[r; 32], i).is_none());
        }
        assert_eq!(listed(&s), vec![(1, 0), (1, 2)]);
        assert_eq!(s.len(), 2);
        assert_eq!(s.runs.len(), 1);
    }

    #[test]
    fn drops_the_oldest_beyond_the_limit() {
        let mut s = SkippedKeys::default();
        s.extend((0..10).map(|i| key(1, i)));
        let limit = u32::try_from(MAX_STORED_SKIPPED).unwrap_or(u32::MAX);
        s.extend((0..limit).map(|i| key(2, i)));
        assert_eq!(s.len(), MAX_STORED_SKIPPED);
        assert!(s.find(&[1; 32], 9).is_none());
        assert!(s.find(&[2; 32], 0).is_some());
        assert_eq!(s.runs.len(), 1);
    }

    #[test]
    fn keys_out_of_order_from_a_record_are_still_found_and_kept_in_order() {
        // A record is not required to list keys in rising order; each descent starts a
        // run, so no key is lost to the binary search.
        let order = [(1u8, 5u32), (1, 2), (1, 7), (1, 7), (2, 1), (1, 3)];
        let mut s = SkippedKeys::default();
        s.extend(order.iter().map(|&(r, i)| key(r, i)));
        assert_eq!(listed(&s), order.to_vec());
        for &(r, i) in &order {
            assert!(s.find(&[r; 32], i).is_some(), "({r}, {i})");
        }
        let grouped = {
            let mut g = SkippedKeys::default();
            for &(r, i) in &order {
                g.extend([key(r, i)]);
            }
            g
        };
        assert_eq!(s, grouped);
    }

    proptest::proptest! {
        /// Against the plain list it replaces: the same keys found, the oldest of equal
        /// entries first, the same order kept and the same keys dropped.
        #[test]
        fn behaves_like_a_list_of_keys(
            batches in proptest::collection::vec(
                proptest::collection::vec((0u8..3, 0u32..40), 0..60), 1..60),
            lookups in proptest::collection::vec((0u8..3, 0u32..40), 0..40),
        ) {
            let mut s = SkippedKeys::default();
            let mut model: VecDeque<(u8, u32)> = VecDeque::new();
            for (batch, (r, i)) in batches.iter().zip(lookups.iter().cycle()) {
                s.extend(batch.iter().map(|&(r, i)| key(r, i)));
                model.extend(batch.iter().copied());
                while model.len() > MAX_STORED_SKIPPED {
                    model.pop_front();
                }
                let position = s.find(&[*r; 32], *i).map(|(p, _)| p);
                let in_model = model.iter().position(|e| e == &(*r, *i));
                proptest::prop_assert_eq!(position.is_some(), in_model.is_some());
                if let (Some(p), Some(m)) = (position, in_model) {
                    s.remove(p);
                    model.remove(m);
                }
                proptest::prop_assert_eq!(listed(&s), model.iter().copied().collect::<Vec<_>>());
                proptest::prop_assert_eq!(s.len(), model.len());
            }
        }
    }
}
