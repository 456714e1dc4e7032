//! LLVM compilation targets.

/// The target a [`crate::PlironCompiler`] lowers for. The stand-in knows only the one
/// `cubecl-cuda` configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LlvmTarget {
    /// NVIDIA PTX.
    Nvptx,
}

impl LlvmTarget {
    /// Whether the target provides a hardware launch grid.
    pub fn is_gpu(self) -> bool {
        true
    }
}
