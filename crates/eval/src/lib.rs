//! Evaluation of facial-landmark predictions for fdfat-rs: NME (inter-ocular or inter-pupil) per
//! image, per part and per landmark; mean, median and std; FR and AUC at a threshold and the CED;
//! head pose by PnP of the ground truth and NME per `|yaw|` bucket; WFLW attribute subsets;
//! face-classification accuracy, precision and recall; a JSON [`Report`] with a console table,
//! a CED plot and a per-landmark NME picture; and for tracked video ([`video`]) NME per frame,
//! jitter, lag, tracking events and latency, with plots over time and of jitter against lag.
//!
//! Points are given in original-image pixels; see [`layout`] for which points are compared,
//! [`stats`] for the exact FR / AUC definitions, [`pose`] for the angle convention and
//! [`buckets`] for the bucket bounds.
//!
//! ```
//! use fdfat_config::LandmarkScheme;
//! use fdfat_eval::{Evaluator, Sample};
//!
//! let scheme = LandmarkScheme::load("ibug68").unwrap();
//! let mut evaluator = Evaluator::new(&scheme, &scheme).unwrap();
//! // a ground truth whose outer eye corners (36, 45) are 100 px apart
//! let mut gt: Vec<[f64; 2]> = (0..68).map(|i| [i as f64, 2.0 * i as f64]).collect();
//! gt[36] = [100.0, 200.0];
//! gt[45] = [200.0, 200.0];
//! let pred: Vec<[f64; 2]> = gt.iter().map(|p| [p[0] + 3.0, p[1] + 4.0]).collect(); // 5 px off
//! evaluator.push(Sample::new("face.png", (640, 480), pred, gt)).unwrap();
//! let report = evaluator.finish(&fdfat_config::resolve(None, &[]).unwrap()).unwrap();
//! assert!((report.nme_mean - 0.05).abs() < 1e-12);
//! ```
#![warn(missing_docs)]

pub mod buckets;
mod error;
mod evaluator;
pub mod face_cls;
pub mod layout;
mod linalg;
mod ordered_map;
mod plot;
pub mod pose;
mod report;
mod sample;
pub mod stats;
pub mod video;

pub use buckets::{BucketStats, PoseBuckets};
pub use error::EvalError;
pub use evaluator::Evaluator;
pub use face_cls::FaceClsStats;
pub use layout::EvalLayout;
pub use plot::{ced_png, landmarks_png};
pub use pose::{Camera, FaceModel, HeadPose, PoseSolution};
pub use report::{Protocol, Report, ReportFiles, SampleRecord, SubsetStats};
pub use sample::{Attributes, FaceScore, Sample, points_from_flat};
pub use stats::CedPoint;
