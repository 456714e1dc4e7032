//! What a device advertises, narrowed to what the LLVM backend lowers for it.

use crate::LLVM_UNAVAILABLE;
use cubecl_core::ir::DeviceProperties;

/// The GPU target a device's features are narrowed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuTarget {
    Nvptx,
}

/// Narrows `props` to what the LLVM backend lowers for `target`.
///
/// `cubecl-cuda` calls this at device start exactly when it selected the LLVM compiler, which
/// this build does not have, so it stops there with [`LLVM_UNAVAILABLE`] rather than start a
/// device whose every kernel would fail to compile.
pub fn restrict_features(_props: &mut DeviceProperties, _target: GpuTarget) {
    panic!("{LLVM_UNAVAILABLE}");
}
