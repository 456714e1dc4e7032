//! The compiler types `cubecl-cuda` names, without the compiler.

pub mod lowered_features;

use crate::{LLVM_UNAVAILABLE, LlvmTarget, nvptx::ptx_version::PtxVersion};
use cubecl_core::ir::{amd::GfxArch, nvidia::SmArch};
use cubecl_environment::backtrace::BackTrace;
use cubecl_runtime::{
    compiler::{CompilationError, Compiler},
    kernel::{BufferIOAttr, KernelDefinition},
};

/// The LLVM kernel compiler's handle. Its [`Compiler::compile`] always fails with
/// [`LLVM_UNAVAILABLE`].
#[derive(Clone, Debug)]
pub struct PlironCompiler {
    pub target: LlvmTarget,
}

/// The LLVM compiler's options, as `cubecl-cuda` fills them in.
#[derive(Clone, Debug, Default)]
pub struct PlironOptions {
    /// AMDGPU architecture, or `None` for other targets.
    pub arch: Option<GfxArch>,
    /// NVPTX architecture, or `None` for other targets.
    pub sm_arch: Option<SmArch>,
    /// PTX version to emit, or `None` for the oldest the architecture accepts.
    pub ptx_version: Option<PtxVersion>,
    /// Pass scalars and static metadata in the kernel parameter block.
    pub grid_constants: bool,
}

/// Compiled PTX module. Never built by the stand-in; `cubecl-cuda` names its fields.
#[derive(Clone, Debug)]
pub struct NvptxModule {
    /// NUL-terminated PTX assembly.
    pub ptx: Vec<core::ffi::c_char>,
    /// Kernel entry point symbol.
    pub entrypoint: String,
    /// IR for logging and cache keys.
    pub ir: String,
    /// Shared memory required per launch, in bytes.
    pub shared_memory_size: usize,
    /// Buffer access modes in binding order.
    pub io: Vec<BufferIOAttr>,
}

/// Compiled kernel artifact.
#[derive(Clone, Debug)]
pub enum PlironArtifact {
    NvptxCode(NvptxModule),
}

impl core::fmt::Display for PlironArtifact {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PlironArtifact::NvptxCode(module) => write!(f, "{}", module.ir),
        }
    }
}

impl Compiler for PlironCompiler {
    type Representation = PlironArtifact;
    type CompilationOptions = PlironOptions;

    fn buffer_io(repr: &Self::Representation) -> Option<Vec<BufferIOAttr>> {
        match repr {
            PlironArtifact::NvptxCode(module) => Some(module.io.clone()),
        }
    }

    fn compile(
        &mut self,
        _kernel: KernelDefinition,
        _compilation_options: &Self::CompilationOptions,
    ) -> Result<Self::Representation, CompilationError> {
        Err(CompilationError::Generic {
            reason: LLVM_UNAVAILABLE.to_string(),
            backtrace: BackTrace::capture(),
        })
    }

    fn extension(&self) -> &'static str {
        "ll"
    }

    fn lang_tag(&self) -> &'static str {
        "llvm"
    }
}
