//! 16 f32 lanes held in the registers an instruction set has: one AVX-512 register, two AVX2
//! registers, or a plain array the compiler maps to SSE. The register-blocked kernels (stem,
//! depth-wise) are written once against [`F32x16`] and instantiated per instruction set inside
//! `#[target_feature]` functions, where these always-inlined wrappers become single
//! instructions.

/// Number of lanes of an [`F32x16`].
pub const LANES: usize = 16;

/// 16 f32 lanes.
///
/// # Safety
///
/// Implementations execute instructions of their instruction set: callers must make sure the
/// CPU supports it (reach the kernels only through [`Isa::detect`](crate::Isa::detect)).
pub unsafe trait F32x16: Copy {
    /// Registers of the instruction set one value takes (1 for AVX-512, 2 for AVX2, 4 for
    /// SSE), for kernels that size their register blocks by it.
    const REGISTERS: usize;
    /// Whether the level multiplies and adds in one instruction (`f32::mul_add` is that
    /// instruction there, a library call elsewhere); see [`math`](crate::math).
    const FMA: bool;
    /// The lanes kernels built on [`Self::splat_pair`] run on in this instruction set's
    /// frame: AVX-512 takes two 256-bit registers, which measured faster there than the
    /// 512-bit pair broadcast.
    type Pairs: F32x16;
    /// Every lane `v`.
    fn splat(v: f32) -> Self;
    /// `pair[0]` in the even lanes, `pair[1]` in the odd ones.
    fn splat_pair(pair: &[f32; 2]) -> Self;
    /// Sums of neighbouring lanes: `lane[2j] + lane[2j + 1]` for `j < 8`.
    fn sum_pairs(self) -> [f32; LANES / 2];
    /// The 16 values of `s`.
    fn load(s: &[f32; LANES]) -> Self;
    /// Writes the lanes to `s`.
    fn store(self, s: &mut [f32; LANES]);
    /// `self + a * b`, lane by lane (fused where the instruction set has FMA).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `self + a`, lane by lane.
    fn add(self, a: Self) -> Self;
}

/// The first 16 values of `s` as an array.
#[inline(always)]
pub fn lanes(s: &[f32]) -> &[f32; LANES] {
    s[..LANES].try_into().expect("16 values")
}

/// The first 16 values of `s` as an array.
#[inline(always)]
pub fn lanes_mut(s: &mut [f32]) -> &mut [f32; LANES] {
    (&mut s[..LANES]).try_into().expect("16 values")
}

/// The 16 values `s[i..i + 16]` without a bounds check, for inner loops that checked the
/// largest `i` once.
///
/// # Safety
///
/// `i + 16 <= s.len()`.
#[inline(always)]
pub unsafe fn lanes_unchecked(s: &[f32], i: usize) -> &[f32; LANES] {
    debug_assert!(i + LANES <= s.len());
    // SAFETY: the caller keeps the 16 values inside `s`; `[f32; 16]` has `f32`'s alignment.
    unsafe { &*s.as_ptr().add(i).cast::<[f32; LANES]>() }
}

/// Portable lanes for the baseline build.
#[derive(Debug, Clone, Copy)]
pub struct Scalar([f32; LANES]);

// SAFETY: plain Rust arithmetic, valid on every CPU.
unsafe impl F32x16 for Scalar {
    type Pairs = Self;
    const REGISTERS: usize = 4;
    // NEON always has it; x86-64 only when the whole build targets it
    const FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Self([v; LANES])
    }
    #[inline(always)]
    fn splat_pair(pair: &[f32; 2]) -> Self {
        Self(std::array::from_fn(|i| pair[i % 2]))
    }
    #[inline(always)]
    fn sum_pairs(self) -> [f32; LANES / 2] {
        std::array::from_fn(|j| self.0[2 * j] + self.0[2 * j + 1])
    }
    #[inline(always)]
    fn load(s: &[f32; LANES]) -> Self {
        Self(*s)
    }
    #[inline(always)]
    fn store(self, s: &mut [f32; LANES]) {
        *s = self.0;
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        let mut out = self.0;
        for ((o, x), y) in out.iter_mut().zip(a.0).zip(b.0) {
            *o += x * y;
        }
        Self(out)
    }
    #[inline(always)]
    fn add(self, a: Self) -> Self {
        let mut out = self.0;
        for (o, x) in out.iter_mut().zip(a.0) {
            *o += x;
        }
        Self(out)
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{F32x16, LANES};
    use std::arch::x86_64::*;

    /// One AVX-512 register.
    #[derive(Debug, Clone, Copy)]
    pub struct Avx512(__m512);

    // SAFETY: AVX-512F instructions; only used after `Isa::detect` found AVX-512.
    unsafe impl F32x16 for Avx512 {
        const REGISTERS: usize = 1;
        const FMA: bool = true;
        type Pairs = Avx2;
        #[inline(always)]
        fn splat(v: f32) -> Self {
            // SAFETY: see the impl.
            Self(unsafe { _mm512_set1_ps(v) })
        }
        #[inline(always)]
        fn splat_pair(pair: &[f32; 2]) -> Self {
            // SAFETY: `pair` holds 8 readable bytes, read unaligned as one f64 and broadcast
            // (one `vbroadcastsd`); see the impl.
            Self(unsafe {
                let both = std::ptr::read_unaligned(pair.as_ptr().cast::<f64>());
                _mm512_castpd_ps(_mm512_set1_pd(both))
            })
        }
        #[inline(always)]
        fn sum_pairs(self) -> [f32; LANES / 2] {
            let mut out = [0.0f32; LANES / 2];
            // SAFETY: `out` holds 8 writable values; see the impl.
            unsafe {
                // swap neighbours, add: lane 2j holds the pair's sum; then gather the even lanes
                let sums = _mm512_add_ps(self.0, _mm512_permute_ps::<0b10_11_00_01>(self.0));
                let even = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 14, 12, 10, 8, 6, 4, 2, 0);
                let low = _mm512_castps512_ps256(_mm512_permutexvar_ps(even, sums));
                _mm256_storeu_ps(out.as_mut_ptr(), low);
            }
            out
        }
        #[inline(always)]
        fn load(s: &[f32; LANES]) -> Self {
            // SAFETY: `s` holds 16 readable values; see the impl.
            Self(unsafe { _mm512_loadu_ps(s.as_ptr()) })
        }
        #[inline(always)]
        fn store(self, s: &mut [f32; LANES]) {
            // SAFETY: `s` holds 16 writable values; see the impl.
            unsafe { _mm512_storeu_ps(s.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            Self(unsafe { _mm512_fmadd_ps(a.0, b.0, self.0) })
        }
        #[inline(always)]
        fn add(self, a: Self) -> Self {
            // SAFETY: see the impl.
            Self(unsafe { _mm512_add_ps(self.0, a.0) })
        }
    }

    /// Two AVX2 registers.
    #[derive(Debug, Clone, Copy)]
    pub struct Avx2(__m256, __m256);

    // SAFETY: AVX and FMA instructions; only used after `Isa::detect` found AVX2 and FMA.
    unsafe impl F32x16 for Avx2 {
        const REGISTERS: usize = 2;
        const FMA: bool = true;
        type Pairs = Self;
        #[inline(always)]
        fn splat(v: f32) -> Self {
            // SAFETY: see the impl.
            unsafe { Self(_mm256_set1_ps(v), _mm256_set1_ps(v)) }
        }
        #[inline(always)]
        fn splat_pair(pair: &[f32; 2]) -> Self {
            // SAFETY: `pair` holds 8 readable bytes, read unaligned as one f64 and broadcast;
            // see the impl.
            unsafe {
                let both = std::ptr::read_unaligned(pair.as_ptr().cast::<f64>());
                let v = _mm256_castpd_ps(_mm256_set1_pd(both));
                Self(v, v)
            }
        }
        #[inline(always)]
        fn sum_pairs(self) -> [f32; LANES / 2] {
            let mut out = [0.0f32; LANES / 2];
            // SAFETY: `out` holds 8 writable values; see the impl.
            unsafe {
                // per 128-bit half: [a01 a23 b01 b23 | a45 a67 b45 b67]; reorder the 64-bit
                // quarters to a01 a23 a45 a67 b01 b23 b45 b67
                let sums = _mm256_castps_pd(_mm256_hadd_ps(self.0, self.1));
                let ordered = _mm256_permute4x64_pd::<0b11_01_10_00>(sums);
                _mm256_storeu_ps(out.as_mut_ptr(), _mm256_castpd_ps(ordered));
            }
            out
        }
        #[inline(always)]
        fn load(s: &[f32; LANES]) -> Self {
            // SAFETY: `s` holds 16 readable values; see the impl.
            unsafe {
                Self(
                    _mm256_loadu_ps(s.as_ptr()),
                    _mm256_loadu_ps(s.as_ptr().add(8)),
                )
            }
        }
        #[inline(always)]
        fn store(self, s: &mut [f32; LANES]) {
            // SAFETY: `s` holds 16 writable values; see the impl.
            unsafe {
                _mm256_storeu_ps(s.as_mut_ptr(), self.0);
                _mm256_storeu_ps(s.as_mut_ptr().add(8), self.1);
            }
        }
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            unsafe {
                Self(
                    _mm256_fmadd_ps(a.0, b.0, self.0),
                    _mm256_fmadd_ps(a.1, b.1, self.1),
                )
            }
        }
        #[inline(always)]
        fn add(self, a: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { Self(_mm256_add_ps(self.0, a.0), _mm256_add_ps(self.1, a.1)) }
        }
    }
}

/// `dst = src` for a few values (`dst.len()` of them) in fixed-size moves, without a call to
/// `memcpy` for each pixel's handful of channels.
#[inline(always)]
pub fn copy_small<V: F32x16>(dst: &mut [f32], src: &[f32]) {
    let n = dst.len();
    let mut i = 0;
    while i + LANES <= n {
        V::load(lanes(&src[i..])).store(lanes_mut(&mut dst[i..]));
        i += LANES;
    }
    if i < n && n >= LANES {
        // the last 16 values, overlapping values already copied
        let j = n - LANES;
        V::load(lanes(&src[j..])).store(lanes_mut(&mut dst[j..]));
        return;
    }
    if i + 8 <= n {
        dst[i..i + 8].copy_from_slice(&src[i..i + 8]);
        i += 8;
    }
    if i + 4 <= n {
        dst[i..i + 4].copy_from_slice(&src[i..i + 4]);
        i += 4;
    }
    // at most 3 values left
    for (d, s) in dst[i..].iter_mut().zip(&src[i..n]) {
        *d = *s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Isa, simd_kernel};

    /// `splat_pair([2, -1]) * x` for `x = 0.5 i - 3`, its lanes then its pair sums.
    #[inline(always)]
    fn pairs<V: F32x16>(out: &mut Vec<f32>) {
        let x: [f32; LANES] = std::array::from_fn(|i| i as f32 * 0.5 - 3.0);
        let product = V::splat(0.0).mul_add(V::splat_pair(&[2.0, -1.0]), V::load(&x));
        let mut lanes = [0.0; LANES];
        product.store(&mut lanes);
        out.extend(lanes);
        out.extend(product.sum_pairs());
    }

    simd_kernel! {
        /// [`pairs`] for an instruction set.
        fn run_pairs(out: &mut Vec<f32>) => pairs
    }

    #[test]
    fn pair_broadcasts_and_sums_agree_on_every_instruction_set() {
        let x = |i: usize| i as f32 * 0.5 - 3.0;
        let lanes: Vec<f32> = (0..LANES)
            .map(|i| x(i) * if i % 2 == 0 { 2.0 } else { -1.0 })
            .collect();
        let sums = (0..LANES / 2).map(|j| lanes[2 * j] + lanes[2 * j + 1]);
        let want: Vec<f32> = lanes.iter().copied().chain(sums).collect();
        for isa in Isa::supported() {
            let mut got = Vec::new();
            run_pairs(isa, &mut got);
            assert_eq!(got, want, "{isa:?}");
        }
    }
}
