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
    /// Every lane `v`.
    fn splat(v: f32) -> Self;
    /// Lanes 0-7 `a`, lanes 8-15 `b`.
    fn splat2(a: f32, b: f32) -> Self;
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
    const REGISTERS: usize = 4;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Self([v; LANES])
    }
    #[inline(always)]
    fn splat2(a: f32, b: f32) -> Self {
        let mut lanes = [a; LANES];
        lanes[LANES / 2..].fill(b);
        Self(lanes)
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
        #[inline(always)]
        fn splat(v: f32) -> Self {
            // SAFETY: see the impl.
            Self(unsafe { _mm512_set1_ps(v) })
        }
        #[inline(always)]
        fn splat2(a: f32, b: f32) -> Self {
            // SAFETY: see the impl (AVX-512DQ for the 256-bit insert).
            Self(unsafe { _mm512_insertf32x8::<1>(_mm512_set1_ps(a), _mm256_set1_ps(b)) })
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
        #[inline(always)]
        fn splat(v: f32) -> Self {
            // SAFETY: see the impl.
            unsafe { Self(_mm256_set1_ps(v), _mm256_set1_ps(v)) }
        }
        #[inline(always)]
        fn splat2(a: f32, b: f32) -> Self {
            // SAFETY: see the impl.
            unsafe { Self(_mm256_set1_ps(a), _mm256_set1_ps(b)) }
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
