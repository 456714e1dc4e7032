//! ONNX and TFLite export of the fdfat-rs landmark models (LWModel, LWCSPModel, with their
//! face-score and pose heads), checked in-process with tract-onnx, with int8 (QDQ; TFLite
//! full-integer and integer), int16x8 (TFLite) and uint8-NHWC variants; and the running of
//! exported files ([`ExportedModel`]) for `val`, `predict` and `track`. The TFLite writer,
//! reader, quantizer and runner are in [`tflite`].
//!
//! ```no_run
//! let cfg = fdfat_config::resolve(
//!     None,
//!     &[
//!         ("checkpoint".into(), "best.pt".into()),
//!         ("face_cls".into(), "true".into()),
//!         ("export_format".into(), "onnx".into()),
//!     ],
//! )
//! .unwrap();
//! let summary = fdfat_export::export_onnx(&cfg).unwrap();
//! assert!(summary.max_diff <= fdfat_export::TOLERANCE);
//! ```
//!
//! # The file
//!
//! Input `input` `[N, 3, H, W]` float32 (normalised `pixel / 127.5 - 1`) with a free batch
//! axis `N`, or `[N, H, W, 3]` uint8 with `export_nhwc_uint8` (Transpose, Cast and the
//! normalisation inside the graph); output `output` `[N, 2 * points (+1 face score) (+3 pose)]`
//! as the original fdfat's. BatchNorm is folded into the convolutions, ReLU6 is `Clip(0, 6)`,
//! PReLU `PRelu`, SiLU `Sigmoid` * `Mul`, global pools `GlobalAveragePool` /
//! `GlobalMaxPool`, linear layers `Gemm` (`transB = 1`), the C2f halves one `Slice`. Opset 17
//! (or `export_opset`), IR 8; metadata: the checkpoint, the resolved configuration, the model,
//! the input and output layouts. The published LWModel graph has 105 nodes; this one has 103
//! (the three pooled pyramid levels are concatenated before one `Flatten`), the LWCSP one 117
//! against 197 for PyTorch's export (no `Shape`/`Gather` chains to split channels, and only the half the bottleneck reads is
//! sliced out).
//!
//! # Why the graph is written from the model's structure
//!
//! burn-onnx's experimental exporter was the alternative. Measured on these models it needs
//! ReLU6, PReLU and global max pool rewritten first, then leaves BatchNorm unfolded, cannot name
//! the input, loses the dynamic batch of LWCSP and runs 2x slower in onnxruntime than the
//! published file: it misses every target of the file. Lowering block by block
//! ([`lower`](crate::lower)) from the model's tensors by path gives exactly the deployment graph
//! (one `Conv` per conv + BatchNorm), at the price of mirroring the two architectures' wiring,
//! which the self-check guards: any disagreement with the burn forward above [`TOLERANCE`] is an
//! error. The protobuf types are tract-onnx's generated `onnx.proto` messages (`tract_onnx::pb`),
//! encoded with prost, so one maintained dependency both writes and runs the files.
//!
//! # int8
//!
//! Static QDQ quantization ([`quantize`](crate::quantize)): int8 per-channel weights, int8
//! per-tensor activations calibrated by min / max on `export_calib` val images, the output
//! tail in float. [`export`] reports the NME of the float and int8 files on the val split.
#![warn(missing_docs)]

mod error;
mod export;
mod export_tflite;
mod exported;
mod graph;
pub mod lower;
mod onnx_model;
mod proto;
pub mod quantize;
mod runtime;
pub mod tflite;
mod valset;
mod verify;
mod weights;

pub use error::ExportError;
pub use export::{ExportSummary, Exported, Int8Summary, export, export_onnx, int8_path};
pub use export_tflite::{
    AccuracyReport, AccuracyRow, TfliteFile, TfliteSummary, Variant, export_tflite, variant_path,
};
pub use exported::{ExportedModel, Format, OutputLayout};
pub use lower::{GraphOptions, InputLayout};
pub use onnx_model::{MIN_OPSET, OnnxOptions, PRODUCER, to_onnx, write_onnx};
pub use runtime::{Input, OnnxInfo, OnnxRunner, decode_model, read_model};
/// The ONNX protobuf messages (tract-onnx's generated types).
pub use tract_onnx::pb;
pub use valset::ValSplit;
pub use verify::{SampleBatch, TOLERANCE, burn_outputs, check_against_burn, max_abs_diff};
