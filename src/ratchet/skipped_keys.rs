//! Message keys skipped over and kept for late messages, bounded by `MAX_STORED_SKIPPED`
//! (the oldest is dropped first, and erased).

use std::collections::VecDeque;

use crate::constants::MAX_STORED_SKIPPED;

use super::message_key::MessageKey;

/// One skipped key, indexed by the sender's ratchet public key and the message number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SkippedKey {
    pub(crate) ratchet_key: [u8; 32],
    pub(crate) key: MessageKey,
}

/// Skipped keys in the order they were skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SkippedKeys {
    keys: VecDeque<SkippedKey>,
}

impl SkippedKeys {
    /// The position of the key for message `n` of the chain of `ratchet_key`.
    pub(crate) fn find(&self, ratchet_key: &[u8; 32], n: u32) -> Option<(usize, &MessageKey)> {
        self.keys
            .iter()
            .enumerate()
            .find(|(_, k)| k.key.index == n && &k.ratchet_key == ratchet_key)
            .map(|(i, k)| (i, &k.key))
    }

    /// Removes (and erases) the key at `position`.
    pub(crate) fn remove(&mut self, position: usize) {
        self.keys.remove(position);
    }

    /// Adds keys, dropping the oldest beyond the limit.
    pub(crate) fn extend(&mut self, keys: impl IntoIterator<Item = SkippedKey>) {
        let keys = keys.into_iter();
        self.keys.reserve(keys.size_hint().0);
        self.keys.extend(keys);
        while self.keys.len() > MAX_STORED_SKIPPED {
            self.keys.pop_front();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &SkippedKey> {
        self.keys.iter()
    }
}
