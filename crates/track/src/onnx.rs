//! Running ONNX files (and TFLite files, through their ONNX equivalent) in-process with tract,
//! at batch 1.

use crate::error::TrackError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// Pixel layout of an image model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    /// `[1, 3, H, W]` float.
    Nchw,
    /// `[1, H, W, 3]` (float or uint8).
    Nhwc,
}

/// The declared input of an image model: layout, element type and spatial size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInput {
    /// Channel placement.
    pub layout: InputLayout,
    /// Whether the input takes raw `u8` pixels (normalisation inside the graph).
    pub uint8: bool,
    /// Input height in pixels.
    pub height: usize,
    /// Input width in pixels.
    pub width: usize,
}

impl ImageInput {
    /// The input's full shape at batch 1.
    fn shape(&self) -> [usize; 4] {
        match self.layout {
            InputLayout::Nchw => [1, 3, self.height, self.width],
            InputLayout::Nhwc => [1, self.height, self.width, 3],
        }
    }
}

/// One output tensor of a run, as `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxOutput {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// An optimised ONNX graph with a single image input, ready to run.
#[derive(Debug, Clone)]
pub struct OnnxModel {
    path: PathBuf,
    plan: Arc<TypedRunnableModel>,
    input: ImageInput,
    output_names: Vec<String>,
}

impl OnnxModel {
    /// Loads `path` (`.tflite` files are read and translated to their ONNX equivalent);
    /// `fallback_size` (`[height, width]`) fills spatial dimensions the file
    /// leaves symbolic. `role` names the model in errors.
    pub fn load(
        path: &Path,
        fallback_size: [usize; 2],
        role: &'static str,
    ) -> Result<Self, TrackError> {
        let load_err = |e: TractError| TrackError::OnnxLoad {
            path: path.to_path_buf(),
            message: format!("{e:#}"),
        };
        let shape_err = |message: String| TrackError::OnnxShape {
            path: path.to_path_buf(),
            role,
            message,
        };
        if !path.is_file() {
            return Err(TrackError::io(
                "read",
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            ));
        }
        let model = if fdfat_export::Format::of(path) == Some(fdfat_export::Format::Tflite) {
            let tflite_err = |e: fdfat_export::ExportError| TrackError::OnnxLoad {
                path: path.to_path_buf(),
                message: e.to_string(),
            };
            let graph = fdfat_export::tflite::read_tflite(path).map_err(tflite_err)?;
            let (proto, _) = fdfat_export::tflite::runnable_onnx(&graph).map_err(tflite_err)?;
            tract_onnx::onnx()
                .model_for_proto_model(&proto)
                .map_err(load_err)?
        } else {
            tract_onnx::onnx().model_for_path(path).map_err(load_err)?
        };
        let inputs = model.input_outlets().map_err(load_err)?.len();
        if inputs != 1 {
            return Err(shape_err(format!("it has {inputs} inputs, expected 1")));
        }
        let fact = model.input_fact(0).map_err(load_err)?.clone();
        let input = image_input(&fact, fallback_size).map_err(shape_err)?;
        let dt = if input.uint8 {
            DatumType::U8
        } else {
            DatumType::F32
        };
        let model = model
            .with_input_fact(0, InferenceFact::dt_shape(dt, input.shape()))
            .and_then(|m| m.into_optimized())
            .map_err(load_err)?;
        let output_names = model
            .output_outlets()
            .map_err(load_err)?
            .iter()
            .map(|o| model.node(o.node).name.clone())
            .collect();
        let plan = model.into_runnable().map_err(load_err)?;
        Ok(Self {
            path: path.to_path_buf(),
            plan,
            input,
            output_names,
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The input the model takes.
    pub fn input(&self) -> ImageInput {
        self.input
    }

    /// The names of the output nodes, in output order.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }

    /// Runs the model on `height x width` RGB8 pixels (row-major, already resized to the
    /// input size); `normalise` maps a byte to the float the model expects (unused for a
    /// `u8` input). Returns every output, in output order.
    pub fn run_rgb(
        &self,
        rgb: &[u8],
        normalise: impl Fn(u8) -> f32,
    ) -> Result<Vec<OnnxOutput>, TrackError> {
        let ImageInput {
            layout,
            uint8,
            height,
            width,
        } = self.input;
        let run_err = |e: TractError| TrackError::OnnxRun {
            path: self.path.clone(),
            message: format!("{e:#}"),
        };
        if rgb.len() != height * width * 3 {
            return Err(TrackError::OnnxRun {
                path: self.path.clone(),
                message: format!(
                    "got {} bytes of pixels for a {width}x{height} RGB input",
                    rgb.len()
                ),
            });
        }
        let shape = self.input.shape();
        let tensor = if uint8 {
            Tensor::from_shape(&shape, rgb).map_err(run_err)?
        } else {
            let data: Vec<f32> = match layout {
                InputLayout::Nhwc => rgb.iter().map(|&v| normalise(v)).collect(),
                InputLayout::Nchw => {
                    let plane = height * width;
                    let mut out = vec![0.0f32; 3 * plane];
                    for (k, px) in rgb.chunks_exact(3).enumerate() {
                        for c in 0..3 {
                            out[c * plane + k] = normalise(px[c]);
                        }
                    }
                    out
                }
            };
            Tensor::from_shape(&shape, &data).map_err(run_err)?
        };
        let outputs = self.plan.run(tvec!(tensor.into())).map_err(run_err)?;
        outputs
            .iter()
            .map(|t| {
                let values = t
                    .cast_to::<f32>()
                    .and_then(|t| Ok(t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec()))
                    .map_err(run_err)?;
                Ok(OnnxOutput {
                    shape: t.shape().to_vec(),
                    values,
                })
            })
            .collect()
    }
}

/// Reads the layout, element type and size of a rank-4 image input.
fn image_input(fact: &InferenceFact, fallback: [usize; 2]) -> Result<ImageInput, String> {
    let dims: Vec<Option<usize>> = fact
        .shape
        .dims()
        .map(|d| {
            d.concretize()
                .and_then(|t| t.to_i64().ok())
                .and_then(|v| usize::try_from(v).ok())
        })
        .collect();
    if dims.len() != 4 || fact.shape.is_open() {
        return Err(format!(
            "its input is {}, expected a rank-4 image [1, 3, H, W] or [1, H, W, 3]",
            fact.format_dt_shape()
        ));
    }
    let uint8 = match fact.datum_type.concretize() {
        Some(DatumType::U8) => true,
        Some(DatumType::F32) | None => false,
        Some(other) => {
            return Err(format!("its input is {other:?}, expected f32 or u8"));
        }
    };
    let (layout, h, w) = match (dims[1], dims[3]) {
        (Some(3), _) => (InputLayout::Nchw, dims[2], dims[3]),
        (_, Some(3)) => (InputLayout::Nhwc, dims[1], dims[2]),
        _ => {
            return Err(format!(
                "its input is {}, which has no dimension of 3 colour channels at axis 1 or 3",
                fact.format_dt_shape()
            ));
        }
    };
    if uint8 && layout == InputLayout::Nchw {
        return Err("a u8 input must be NHWC [1, H, W, 3]".into());
    }
    Ok(ImageInput {
        layout,
        uint8,
        height: h.unwrap_or(fallback[0]),
        width: w.unwrap_or(fallback[1]),
    })
}
