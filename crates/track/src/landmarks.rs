//! The landmark model at batch 1, from a project checkpoint (`.bpk`) or an original `best.pt`
//! (run in the fused CPU engine on the CPU device, in burn on others) or an ONNX file (run in
//! tract): crop a box of the image, resize it to the model input, `x / 127.5 - 1`, and map the
//! predicted points back to image pixels.

use crate::error::TrackError;
use crate::geometry::FaceBox;
use crate::onnx::{InputLayout, OnnxModel};
use burn::tensor::{Device, Tensor, TensorData};
use fdfat_config::Config;
use fdfat_config::DeviceSpec;
use fdfat_data::{CropBox, CropTransform, crop_input, crop_resize_rgb};
use fdfat_export::{Format, OutputLayout};
use fdfat_infer::FusedModel;
use fdfat_models::{LandmarkModel, ModelSpec, device_for, load_checkpoint};
use image::RgbImage;
use std::fmt;
use std::path::{Path, PathBuf};

/// Landmarks of one face in image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceLandmarks {
    /// `(x, y)` per point, in image pixels.
    pub points: Vec<[f32; 2]>,
    /// The face-cls head's probability that the crop is a face, when the model has the head.
    pub face_score: Option<f32>,
    /// The pixel box that was cropped.
    pub crop: CropBox,
}

enum Backend {
    Fused(FusedModel),
    Burn {
        model: Box<LandmarkModel>,
        device: Device,
    },
    Onnx(OnnxModel),
}

/// A landmark model ready to run on face crops.
pub struct LandmarkPredictor {
    backend: Backend,
    layout: OutputLayout,
    size: usize,
    source: PathBuf,
    note: String,
}

impl fmt::Debug for LandmarkPredictor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LandmarkPredictor")
            .field("source", &self.source)
            .field("points", &self.layout.points)
            .field("face_score", &self.layout.face_score.is_some())
            .field("size", &self.size)
            .finish()
    }
}

impl LandmarkPredictor {
    /// Loads the landmark model at `path`: an ONNX or TFLite file (by its `.onnx` / `.tflite`
    /// extension) runs in tract, anything else is a checkpoint loaded into the model `cfg`
    /// describes (`model`,
    /// `activation`, `muliplier`, `lmk_num`, `imgsz`), run by the fused CPU engine when
    /// `device` is the CPU and by burn on `device` otherwise. A checkpoint with a face-cls head
    /// is used with it even when `face_cls` is off.
    pub fn load(cfg: &Config, path: &Path, device: &Device) -> Result<Self, TrackError> {
        if Format::of(path).is_some() {
            Self::load_onnx(cfg, path)
        } else {
            Self::load_checkpoint(cfg, path, device)
        }
    }

    fn load_onnx(cfg: &Config, path: &Path) -> Result<Self, TrackError> {
        let shape_err = |message: String| TrackError::OnnxShape {
            path: path.to_path_buf(),
            role: ROLE,
            message,
        };
        let model = OnnxModel::load(path, [cfg.imgsz, cfg.imgsz], ROLE)?;
        let input = model.input();
        if input.height != input.width {
            return Err(shape_err(format!(
                "its input is {}x{}, expected a square crop",
                input.width, input.height
            )));
        }
        // one dry run tells the output width
        let outputs = model.run_rgb(&vec![0u8; input.height * input.width * 3], normalise)?;
        let width = outputs.first().map_or(0, |o| o.values.len());
        let layout = OutputLayout::for_width(width, cfg.lmk_num).ok_or_else(|| {
            shape_err(format!(
                "its output has {width} values per face, which does not fit `lmk_num: {}` \
                 (expected {} landmark values, plus 1 face score and/or 3 pose values)",
                cfg.lmk_num,
                2 * cfg.lmk_num
            ))
        })?;
        let note = format!(
            "landmark model `{}`: {} in tract, input {}x{} {}{}, {} points{}",
            path.display(),
            Format::of(path).map_or("ONNX".into(), |f| f.to_string()),
            input.width,
            input.height,
            if input.layout == InputLayout::Nchw {
                "NCHW"
            } else {
                "NHWC"
            },
            if input.uint8 { " uint8" } else { " float" },
            layout.points,
            if layout.face_score.is_some() {
                " + face score"
            } else {
                ""
            }
        );
        Ok(Self {
            size: input.height,
            backend: Backend::Onnx(model),
            layout,
            source: path.to_path_buf(),
            note,
        })
    }

    fn load_checkpoint(cfg: &Config, path: &Path, device: &Device) -> Result<Self, TrackError> {
        let checkpoint_err = |source| TrackError::Checkpoint {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let mut spec = ModelSpec::from_config(cfg).map_err(checkpoint_err)?;
        spec.freeze_landmark = false;
        let build = |spec: ModelSpec| -> Result<_, TrackError> {
            let model = LandmarkModel::from_spec(spec, device).map_err(checkpoint_err)?;
            load_checkpoint(model, path).map_err(checkpoint_err)
        };
        let (mut model, mut report) = build(spec)?;
        let mut note = String::new();
        if !spec.face_cls && report.ignored.iter().any(|n| n.starts_with("classifier.")) {
            spec.face_cls = true;
            (model, report) = build(spec)?;
            note = "\n  the checkpoint has a face-cls head: using it for face scores".into();
        }
        let layout = OutputLayout {
            points: spec.points,
            face_score: model.face_cls_index(),
        };
        let backend = if *device == device_for(&DeviceSpec::Cpu).0 {
            let engine = FusedModel::from_model(&model).map_err(checkpoint_err)?;
            note.push_str(&format!(
                "\n  running in the fused CPU engine ({} kernels)",
                engine.instruction_set()
            ));
            Backend::Fused(engine)
        } else {
            Backend::Burn {
                model: Box::new(model),
                device: device.clone(),
            }
        };
        Ok(Self {
            size: spec.imgsz,
            backend,
            layout,
            source: path.to_path_buf(),
            note: format!("{report}{note}"),
        })
    }

    /// What was loaded, for the console.
    pub fn note(&self) -> &str {
        &self.note
    }

    /// The model file.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Number of landmark points per face.
    pub fn points(&self) -> usize {
        self.layout.points
    }

    /// Whether the model gives a face score.
    pub fn has_face_score(&self) -> bool {
        self.layout.face_score.is_some()
    }

    /// The square input side in pixels.
    pub fn input_size(&self) -> usize {
        self.size
    }

    /// The landmarks of the face in `region` of `image` (clipped to the image); `None` when
    /// the region misses the image.
    pub fn predict(
        &self,
        image: &RgbImage,
        region: &FaceBox,
    ) -> Result<Option<FaceLandmarks>, TrackError> {
        match region.crop_box([image.width(), image.height()]) {
            Some(crop) => self.predict_crop(image, &crop).map(Some),
            None => Ok(None),
        }
    }

    /// The landmarks of the face filling `crop` of `image`.
    pub fn predict_crop(
        &self,
        image: &RgbImage,
        crop: &CropBox,
    ) -> Result<FaceLandmarks, TrackError> {
        let row = match &self.backend {
            Backend::Fused(engine) => {
                let input = crop_input(image, crop, self.size, true);
                engine
                    .run(&input.pixels, 1)
                    .map_err(|e| TrackError::Model(e.to_string()))?
            }
            Backend::Burn { model, device } => {
                let s = self.size;
                let input = crop_input(image, crop, s, true);
                let x = Tensor::<4>::from_data(TensorData::new(input.pixels, [1, 3, s, s]), device);
                model
                    .forward(x)
                    .into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| TrackError::Model(format!("{e:?}")))?
            }
            Backend::Onnx(model) => {
                let rgb = crop_resize_rgb(image, crop, self.size);
                let outputs = model.run_rgb(&rgb, normalise)?;
                outputs
                    .into_iter()
                    .next()
                    .ok_or_else(|| TrackError::Model("the ONNX model has no output".into()))?
                    .values
            }
        };
        let n = self.layout.points;
        if row.len() < 2 * n + usize::from(self.layout.face_score.is_some()) {
            return Err(TrackError::Model(format!(
                "the output has {} values, expected at least {}",
                row.len(),
                2 * n
            )));
        }
        let transform = CropTransform::from_box(crop);
        let points = row[..2 * n]
            .chunks_exact(2)
            .map(|p| transform.to_image([p[0], p[1]]))
            .collect();
        Ok(FaceLandmarks {
            points,
            face_score: self.layout.face_score.map(|i| row[i]),
            crop: *crop,
        })
    }
}

/// The training normalisation of a pixel, `x / 127.5 - 1`.
fn normalise(v: u8) -> f32 {
    f32::from(v) / 127.5 - 1.0
}

/// The predictor's role in error messages.
const ROLE: &str = "a landmark model";
