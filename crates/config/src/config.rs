//! The typed configuration: one field per key of `configs/default.yaml`.

use crate::options::{
    Activation, BestMetric, FaceLossKind, LossKind, LrSchedule, ModelKind, NmeNorm, OptimizerKind,
    Smoother, Split, Task,
};
use serde::{Deserialize, Deserializer, Serialize};

/// Every configuration key, typed. Field names are the YAML keys (the original fdfat names,
/// `muliplier` and `w_mount` spellings included). Built by [`crate::load::ConfigLoader`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // each key is documented by its comment in configs/default.yaml
pub struct Config {
    // general
    pub task: Task,
    #[serde(deserialize_with = "lenient_string")]
    pub name: String,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub project: Option<String>,
    pub seed: u64,
    #[serde(rename = "override")]
    pub override_: bool,
    pub profiler: bool,

    // data
    #[serde(deserialize_with = "lenient_opt_string")]
    pub data: Option<String>,
    pub workers: usize,
    pub aug: f64,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub input: Option<String>,
    pub validation: Split,
    pub pre_norm: bool,
    pub lmk_num: usize,
    pub cache: bool,
    pub img_read_engine: String,
    pub skip_bad: bool,
    pub crop_cache: bool,
    pub aug_affine: f64,
    pub aug_rotate: f64,
    pub aug_flip: f64,
    pub aug_gray: f64,
    pub aug_brightness: f64,
    pub aug_color: f64,
    pub aug_blur: f64,
    pub aug_noise: f64,
    pub aug_jpeg: f64,
    pub aug_occlusion: f64,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub synth_out: Option<String>,
    pub synth_count: usize,
    pub synth_sequences: usize,
    pub synth_frames: usize,
    pub synth_frame_width: u32,
    pub synth_frame_height: u32,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub facecrops_out: Option<String>,

    // model
    pub model: ModelKind,
    pub imgsz: usize,
    pub aux_pose: bool,
    #[serde(alias = "multiplier")]
    pub muliplier: f64,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub checkpoint: Option<String>,
    pub lmk_mean: bool,
    pub face_cls: bool,
    pub freeze_landmark: bool,
    pub activation: Activation,

    // training
    pub resume: bool,
    pub epoch: usize,
    pub optimizer: OptimizerKind,
    pub loss: LossKind,
    pub lr: f64,
    pub batch_size: usize,
    pub lre_factor: f64,
    pub lr_schedule: LrSchedule,
    pub warmup_epochs: usize,
    pub patience: usize,
    pub best_metric: BestMetric,
    pub time: f64,
    pub ema: bool,
    pub ema_decay: f64,
    #[serde(deserialize_with = "lenient_string")]
    pub device: String,
    pub dump_batch: usize,
    pub save: bool,
    pub pin_memory: bool,
    pub aux_pose_weight: f64,
    pub face_cls_weight: f64,
    pub loss_facecls: FaceLossKind,

    // loss weights
    pub lossw_enabled: bool,
    pub w_jaw: f64,
    pub w_leyeb: f64,
    pub w_reyeb: f64,
    pub w_nose: f64,
    pub w_nosetip: f64,
    pub w_leye: f64,
    pub w_reye: f64,
    pub w_mount: f64,
    pub w_purpil: f64,

    // testing
    pub test_warmup: bool,
    pub fr_threshold: f64,
    pub pose_buckets: Vec<f64>,
    pub nme_norm: NmeNorm,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub val_report: Option<String>,
    pub val_still_threshold: f64,
    pub val_trend_window: usize,

    // export
    pub export_format: String,
    pub export_simplify: bool,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub export_path: Option<String>,
    pub export_opset: i64,
    pub export_int8: bool,
    pub export_calib: usize,
    pub export_nhwc_uint8: bool,
    pub export_int16x8: bool,
    pub export_int8_max_nme_delta: Option<f64>,

    // tracking
    pub track_source: String,
    pub track_visualize: bool,
    pub track_sort_iou_threshold: f64,
    pub track_max_age: usize,
    pub track_min_hit: usize,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub track_save: Option<String>,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub track_detector: Option<String>,
    pub track_detector_fps: f64,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub track_landmark: Option<String>,
    pub track_verbose: bool,
    pub track_detector_threshold: f64,
    pub track_face_threshold: f64,
    pub track_input_fps: f64,
    pub track_smoother: Smoother,
    pub track_one_euro_min_cutoff: f64,
    pub track_one_euro_beta: f64,
    pub track_one_euro_d_cutoff: f64,
}

impl Config {
    /// The loss weight configured for a part's `weight_key` (e.g. `w_jaw`), if the key exists.
    pub fn part_weight(&self, key: &str) -> Option<f64> {
        Some(match key {
            "w_jaw" => self.w_jaw,
            "w_leyeb" => self.w_leyeb,
            "w_reyeb" => self.w_reyeb,
            "w_nose" => self.w_nose,
            "w_nosetip" => self.w_nosetip,
            "w_leye" => self.w_leye,
            "w_reye" => self.w_reye,
            "w_mount" => self.w_mount,
            "w_purpil" => self.w_purpil,
            _ => return None,
        })
    }
}

/// A scalar the original treated as a string (`name: 2`, `device: 0`) becomes its text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Scalar::deserialize(d).map(Scalar::into_string)
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?
        .map(Scalar::into_string)
        .filter(|s| !s.is_empty()))
}
