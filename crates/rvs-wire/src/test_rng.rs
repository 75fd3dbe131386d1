//! A tiny deterministic xorshift generator for the randomised tests (no dependency needed).

use std::vec::Vec;

/// xorshift64* generator; the same seed gives the same sequence on every run.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator from a nonzero seed.
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(seed | 1)
    }

    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// `len` random bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Between `min` and `min + extra - 1` random bytes.
    pub(crate) fn bytes_plus(&mut self, min: usize, extra: usize) -> Vec<u8> {
        let len = min + self.below(extra);
        self.bytes(len)
    }

    /// `N` random bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.iter_mut().for_each(|b| *b = self.next() as u8);
        out
    }
}
