//! Runtime choice of the instruction set for the hand-written kernels: the same Rust loops are
//! compiled three times (AVX-512, AVX2 + FMA, and the x86-64 / other baseline) and the best one
//! the CPU supports is picked at run time, so a binary built for generic x86-64 still runs
//! 16-lane AVX-512 code where the machine has it. `FDFAT_ISA=avx2` (or `baseline`) caps the
//! choice, to measure or reproduce a smaller machine's code path on a bigger one.

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
    /// The best level this CPU supports, capped by the `FDFAT_ISA` environment variable
    /// (`avx512`, `avx2` or `baseline`; unset or unknown: no cap), read once per process.
    pub fn detect() -> Self {
        static CHOSEN: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(Self::capped)
    }

    /// [`Self::detect`] before caching.
    fn capped() -> Self {
        let best = Self::best();
        let cap = std::env::var("FDFAT_ISA")
            .ok()
            .and_then(|name| Self::from_name(&name));
        match cap {
            Some(cap) if cap.rank() < best.rank() => cap,
            _ => best,
        }
    }

    /// The level named `name` (`avx512`, `avx2`, `baseline`, any case).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "avx512" | "avx-512" => Some(Self::Avx512),
            "avx2" => Some(Self::Avx2),
            "baseline" => Some(Self::Baseline),
            _ => None,
        }
    }

    /// The level's name for reports (`AVX-512`, `AVX2`, `baseline`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Avx512 => "AVX-512",
            Self::Avx2 => "AVX2",
            Self::Baseline => "baseline",
        }
    }

    /// Order of the levels, the widest highest.
    fn rank(self) -> u8 {
        match self {
            Self::Avx512 => 2,
            Self::Avx2 => 1,
            Self::Baseline => 0,
        }
    }

    /// The best level this CPU supports, uncapped.
    fn best() -> Self {
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

    /// Runs `f` compiled for this level: `f` is called from a frame with the level's features
    /// enabled, so once the compiler inlines it there (a closure called from one place is) its
    /// loops are auto-vectorised for the level's registers. `f` gets whether the frame has
    /// fused multiply-add, for the functions of [`math`](crate::math) (a constant there once
    /// inlined). For element-wise loops that need no explicit vectors;
    /// [`simd_kernel!`](crate::simd_kernel) is the form for generic bodies.
    #[inline(always)]
    pub fn vectorise<R>(self, f: impl FnOnce(bool) -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi1,bmi2")]
            fn avx512<R>(f: impl FnOnce(bool) -> R) -> R {
                f(true)
            }
            #[target_feature(enable = "avx2,fma,bmi1,bmi2")]
            fn avx2<R>(f: impl FnOnce(bool) -> R) -> R {
                f(true)
            }
            match self {
                // SAFETY: `Isa::detect` saw these features on this CPU.
                Self::Avx512 => return unsafe { avx512(f) },
                // SAFETY: as above.
                Self::Avx2 => return unsafe { avx2(f) },
                Self::Baseline => {}
            }
        }
        f(<crate::Scalar as crate::F32x16>::FMA)
    }

    /// Every level this CPU can run, best first (for tests that compare them).
    pub fn supported() -> Vec<Self> {
        let best = Self::best();
        [Self::Avx512, Self::Avx2, Self::Baseline]
            .into_iter()
            .skip_while(|&isa| isa != best)
            .collect()
    }
}

/// Defines `$vis fn $name(isa: Isa, $arg: $ty)` running the `#[inline(always)]` generic body
/// `$body::<V>($arg)` compiled for the instruction set `isa` names, with `V` its
/// [`F32x16`](crate::F32x16) lanes (bodies without explicit vectors ignore `V` and are
/// auto-vectorised for that instruction set).
#[macro_export]
macro_rules! simd_kernel {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($arg:ident: $ty:ty) => $body:ident) => {
        $(#[$doc])*
        $vis fn $name(isa: $crate::Isa, $arg: $ty) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi1,bmi2")]
            fn avx512($arg: $ty) {
                $body::<$crate::Avx512>($arg)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma,bmi1,bmi2")]
            fn avx2($arg: $ty) {
                $body::<$crate::Avx2>($arg)
            }
            match isa {
                // SAFETY: `Isa::detect` saw these features on this CPU.
                #[cfg(target_arch = "x86_64")]
                $crate::Isa::Avx512 => unsafe { avx512($arg) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::Isa::Avx2 => unsafe { avx2($arg) },
                _ => $body::<$crate::Scalar>($arg),
            }
        }
    };
}
