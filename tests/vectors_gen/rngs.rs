//! Generators for the vectors: one that records every draw, and one that replays given bytes
//! and fails loudly if the code asks for anything else.

use std::collections::VecDeque;
use std::convert::Infallible;

use bluetick::rand_core::{SeedableRng, TryCryptoRng, TryRng};
use chacha20::ChaCha20Rng;

/// A seeded ChaCha20 generator that logs each `fill_bytes` call.
pub(crate) struct RecordingRng {
    inner: ChaCha20Rng,
    pub(crate) log: Vec<Vec<u8>>,
}

impl RecordingRng {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            inner: ChaCha20Rng::seed_from_u64(seed),
            log: Vec::new(),
        }
    }

    /// Draws `n` bytes (logged like any other draw).
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.try_fill_bytes(&mut v).unwrap();
        v
    }

    pub(crate) fn take_log(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.log)
    }
}

impl TryRng for RecordingRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.inner.try_fill_bytes(dst)?;
        self.log.push(dst.to_vec());
        Ok(())
    }
}
impl TryCryptoRng for RecordingRng {}

/// Hands out exactly the given byte strings, in order.
pub(crate) struct ScriptedRng {
    queue: VecDeque<Vec<u8>>,
}

impl ScriptedRng {
    pub(crate) fn new(draws: Vec<Vec<u8>>) -> Self {
        Self {
            queue: draws.into(),
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.queue.len()
    }
}

impl TryRng for ScriptedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("the protocol code only fills byte arrays")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("the protocol code only fills byte arrays")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let next = self
            .queue
            .pop_front()
            .expect("the code drew more randomness than the vector records");
        assert_eq!(
            next.len(),
            dst.len(),
            "the code drew a different size than the vector records"
        );
        dst.copy_from_slice(&next);
        Ok(())
    }
}
impl TryCryptoRng for ScriptedRng {}

/// The KEM randomness of one side (spec §14): 64-byte key seeds and 32-byte encapsulation
/// randomness, each handed out in order. Only encryption draws KEM randomness, and there
/// the two sizes tell the two kinds apart.
pub(crate) struct KemRng {
    seeds: VecDeque<Vec<u8>>,
    encaps: VecDeque<Vec<u8>>,
}

impl KemRng {
    pub(crate) fn new(seeds: Vec<Vec<u8>>, encaps: Vec<Vec<u8>>) -> Self {
        Self {
            seeds: seeds.into(),
            encaps: encaps.into(),
        }
    }

    /// (seeds left, encapsulation randomness left)
    pub(crate) fn remaining(&self) -> (usize, usize) {
        (self.seeds.len(), self.encaps.len())
    }
}

impl TryRng for KemRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("the protocol code only fills byte arrays")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("the protocol code only fills byte arrays")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let queue = match dst.len() {
            64 => &mut self.seeds,
            32 => &mut self.encaps,
            n => panic!("encryption drew {n} bytes: only KEM seeds (64) and m (32) are expected"),
        };
        let next = queue
            .pop_front()
            .expect("the code drew more KEM randomness than the vector records");
        dst.copy_from_slice(&next);
        Ok(())
    }
}
impl TryCryptoRng for KemRng {}
