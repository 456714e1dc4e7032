//! The tensors read from a checkpoint, named by the model paths they load into.

use burn::store::burn_pack::Tensor as PackTensor;

/// One checkpoint tensor, translated to the model's naming, layout and float32.
pub struct Entry {
    /// Its name in the checkpoint.
    pub source: String,
    /// The model tensor path it loads into.
    pub target: String,
    /// Its shape in the checkpoint.
    pub shape: Vec<usize>,
    /// Whether the checkpoint stores it transposed (PyTorch linear weights).
    pub transposed: bool,
    /// The data, named `target`, in the model's layout.
    pub tensor: PackTensor,
}

/// Why a checkpoint tensor has no model counterpart by design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A BatchNorm `num_batches_tracked` step counter (burn BatchNorm keeps none).
    BatchCounter,
    /// A repeat of the shared PReLU activation's slope under another block's name.
    SharedCopy,
}

/// Everything read from a checkpoint.
#[derive(Default)]
pub struct Source {
    /// Tensors that load into the model (or into a head it lacks).
    pub entries: Vec<Entry>,
    /// Tensors skipped by design, by checkpoint name.
    pub skipped: Vec<(String, Skipped)>,
    /// The activation (`ReLU6`, `SiLU`, ...) the checkpoint's blocks use, when the file tells.
    pub activation: Option<String>,
}
