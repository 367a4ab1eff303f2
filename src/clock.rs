//! The Lamport clock of a conversation and the display order it gives (spec §10).
//!
//! Physical clocks lie, so a conversation is ordered by a logical counter that travels
//! inside the encryption: sending ticks it, receiving merges the sender's value into it.
//! Whatever a device writes after it received a message then carries a larger counter
//! than that message, and sorting by `(lamport, sender user id, sender device id)` gives
//! every device the same order.

use core::cmp::Ordering;

use crate::account::Address;

/// A conversation's Lamport counter `L`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LamportClock {
    value: u64,
}

impl LamportClock {
    /// A clock at `value`.
    pub fn new(value: u64) -> Self {
        Self { value }
    }

    /// The current value.
    pub fn value(self) -> u64 {
        self.value
    }

    /// Sending: `L = L + 1`, returned as the value the message carries. The counter
    /// saturates at `u64::MAX` (reached only if a peer sends that value; later messages
    /// then tie, and the display order falls back to the sender).
    pub fn send(&mut self) -> u64 {
        self.value = self.value.saturating_add(1);
        self.value
    }

    /// Accepting a message that carries `lamport`: `L = max(L, lamport)`.
    pub fn receive(&mut self, lamport: u64) {
        self.value = self.value.max(lamport);
    }
}

/// A message's place in its conversation's display order: ascending `lamport`, then the
/// sender's user id (shorter first, then bytewise), then the sender's device id. The
/// order is the same on every device and respects happened-before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DisplayKey<'a> {
    /// The Lamport value the message carried.
    pub lamport: u64,
    /// The sender's user id.
    pub user: &'a [u8],
    /// The sender's device id.
    pub device: u32,
}

impl<'a> DisplayKey<'a> {
    /// The key of a message that carried `lamport` from `sender`.
    pub fn new(lamport: u64, sender: &'a Address) -> Self {
        Self {
            lamport,
            user: &sender.user,
            device: sender.device,
        }
    }
}

impl Ord for DisplayKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.lamport
            .cmp(&other.lamport)
            .then_with(|| self.user.len().cmp(&other.user.len()))
            .then_with(|| self.user.cmp(other.user))
            .then_with(|| self.device.cmp(&other.device))
    }
}

impl PartialOrd for DisplayKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sending_ticks_and_receiving_merges() {
        let mut clock = LamportClock::default();
        assert_eq!(clock.send(), 1);
        clock.receive(7);
        assert_eq!(clock.send(), 8);
        clock.receive(3);
        assert_eq!(clock.value(), 8);
        let mut top = LamportClock::new(u64::MAX - 1);
        assert_eq!(top.send(), u64::MAX);
        assert_eq!(top.send(), u64::MAX);
    }

    #[test]
    fn display_order_is_lamport_then_shorter_user_then_device() {
        let bob = Address::new("bob", 2);
        let alice = Address::new("alice", 1);
        let bob1 = Address::new("bob", 1);
        let abc = Address::new("abc", 9);
        // A shorter user id sorts first, whatever its bytes.
        assert!(DisplayKey::new(5, &bob) < DisplayKey::new(5, &alice));
        // Same length: bytewise.
        assert!(DisplayKey::new(5, &abc) < DisplayKey::new(5, &bob));
        // Same user: the device.
        assert!(DisplayKey::new(5, &bob1) < DisplayKey::new(5, &bob));
        // The clock comes before everything else.
        assert!(DisplayKey::new(4, &alice) < DisplayKey::new(5, &abc));
    }
}
