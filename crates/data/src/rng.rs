//! Deterministic seeding and hashing: every random draw of the pipeline comes from an RNG seeded
//! by `(seed, epoch, sample index)`, so batches do not depend on the thread count.

use rand::SeedableRng;
use rand::rngs::StdRng;

/// The SplitMix64 finaliser: a bijective 64-bit mixer.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An RNG determined by a list of keys (e.g. seed, epoch, index).
pub(crate) fn rng_for(keys: &[u64]) -> StdRng {
    let seed = keys
        .iter()
        .fold(0x6A09_E667_F3BC_C908, |acc, &k| mix(acc ^ mix(k)));
    StdRng::seed_from_u64(seed)
}

/// 64-bit FNV-1a, a stable hash for cache fingerprints.
pub(crate) struct Fnv(u64);

impl Fnv {
    /// A fresh hash.
    pub(crate) fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// Adds bytes.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash value.
    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// One draw of the standard normal distribution (Box-Muller).
pub(crate) fn standard_normal(rng: &mut impl rand::Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An approximately standard normal draw: a scaled sum of four uniform bytes (mean 0, variance
/// 1, range +-3.5), cheap enough to draw for every pixel.
pub(crate) fn fast_normal(rng: &mut impl rand::Rng) -> f32 {
    let bytes: [u8; 4] = rng.random();
    let sum: f32 = bytes.iter().map(|&b| f32::from(b)).sum();
    (sum / 255.0 - 2.0) * 3f32.sqrt()
}
