//! Seeded randomness. One run seed; every consumer (a host's `$RANDOM`, the `random` filter,
//! fault timing) draws from its own stream derived from (seed, name), so the order in which
//! hosts run, and so `-f`, cannot change any draw.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A reproducible random stream.
#[derive(Debug, Clone)]
pub struct Stream(ChaCha8Rng);

impl Stream {
    /// The stream named `name` of run `seed`.
    pub fn derive(seed: u64, name: &str) -> Stream {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&fnv1a(name.as_bytes()).to_le_bytes());
        key[16..24].copy_from_slice(&fnv1a(&[name.as_bytes(), b"#2"].concat()).to_le_bytes());
        Stream(ChaCha8Rng::from_seed(key))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform integer in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Rejection sampling keeps the draw unbiased.
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.0.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// FNV-1a: a stable hash (std's hashers make no promise across Rust versions).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_name_same_draws() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut s = Stream::derive(7, "web1");
                move |_| s.below(100)
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut s = Stream::derive(7, "web1");
                move |_| s.below(100)
            })
            .collect();
        let c: Vec<u64> = (0..5)
            .map({
                let mut s = Stream::derive(7, "web2");
                move |_| s.below(100)
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
