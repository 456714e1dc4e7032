//! Runtime choice of the instruction set for the hand-written kernels: the same Rust loops are
//! compiled three times (AVX-512, AVX2 + FMA, and the x86-64 / other baseline) and the best one
//! the CPU supports is picked once, when the engine is built, so a binary built for generic
//! x86-64 still runs 16-lane AVX-512 code where the machine has it.

/// An instruction-set level the kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// x86-64-v4: AVX-512 F/BW/DQ/VL with FMA (16 lanes).
    Avx512,
    /// x86-64-v3: AVX2 with FMA (8 lanes).
    Avx2,
    /// What the build targets without extra features (SSE2 on x86-64).
    Baseline,
}

impl Isa {
    /// The best level this CPU supports.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            let avx512 = avx2
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl");
            if avx512 {
                return Self::Avx512;
            }
            if avx2 {
                return Self::Avx2;
            }
        }
        Self::Baseline
    }

    /// Every level this CPU can run, best first (for tests that compare them).
    #[cfg(test)]
    pub fn supported() -> Vec<Self> {
        let best = Self::detect();
        [Self::Avx512, Self::Avx2, Self::Baseline]
            .into_iter()
            .skip_while(|&isa| isa != best)
            .collect()
    }
}

/// Defines `$vis fn $name(isa: Isa, $arg: $ty)` running the `#[inline(always)]` generic body
/// `$body::<V>($arg)` compiled for the instruction set `isa` names, with `V` its
/// [`F32x16`](super::simd::F32x16) lanes (bodies without explicit vectors ignore `V` and are
/// auto-vectorised for that instruction set).
macro_rules! simd_kernel {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($arg:ident: $ty:ty) => $body:ident) => {
        $(#[$doc])*
        $vis fn $name(isa: $crate::isa::Isa, $arg: $ty) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi1,bmi2")]
            fn avx512($arg: $ty) {
                $body::<$crate::simd::Avx512>($arg)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma,bmi1,bmi2")]
            fn avx2($arg: $ty) {
                $body::<$crate::simd::Avx2>($arg)
            }
            match isa {
                // SAFETY: `Isa::detect` saw these features on this CPU.
                #[cfg(target_arch = "x86_64")]
                $crate::isa::Isa::Avx512 => unsafe { avx512($arg) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::isa::Isa::Avx2 => unsafe { avx2($arg) },
                _ => $body::<$crate::simd::Scalar>($arg),
            }
        }
    };
}

pub(crate) use simd_kernel;
