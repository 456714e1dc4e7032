//! Range checks on a typed configuration.

use crate::config::Config;
use crate::error::{ConfigError, Origin};

/// A value of `cfg` and the range it must lie in.
struct Rule {
    key: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
}

fn rules(c: &Config) -> Vec<Rule> {
    let frac = |key, value| Rule {
        key,
        value,
        lo: 0.0,
        hi: 1.0,
    };
    let positive = |key, value| Rule {
        key,
        value,
        lo: f64::MIN_POSITIVE,
        hi: f64::INFINITY,
    };
    let non_negative = |key, value| Rule {
        key,
        value,
        lo: 0.0,
        hi: f64::INFINITY,
    };
    let at_least_one = |key, value: usize| Rule {
        key,
        value: value as f64,
        lo: 1.0,
        hi: f64::INFINITY,
    };
    vec![
        frac("aug", c.aug),
        frac("aug_affine", c.aug_affine),
        frac("aug_rotate", c.aug_rotate),
        frac("aug_flip", c.aug_flip),
        frac("aug_gray", c.aug_gray),
        frac("aug_brightness", c.aug_brightness),
        frac("aug_color", c.aug_color),
        frac("aug_blur", c.aug_blur),
        frac("aug_noise", c.aug_noise),
        frac("aug_jpeg", c.aug_jpeg),
        frac("aug_occlusion", c.aug_occlusion),
        frac("lre_factor", c.lre_factor),
        frac("ema_decay", c.ema_decay),
        frac("fr_threshold", c.fr_threshold),
        frac("track_sort_iou_threshold", c.track_sort_iou_threshold),
        positive("lr", c.lr),
        positive("muliplier", c.muliplier),
        positive("track_detector_fps", c.track_detector_fps),
        positive("track_input_fps", c.track_input_fps),
        frac("track_detector_threshold", c.track_detector_threshold),
        positive("track_one_euro_min_cutoff", c.track_one_euro_min_cutoff),
        non_negative("track_one_euro_beta", c.track_one_euro_beta),
        positive("track_one_euro_d_cutoff", c.track_one_euro_d_cutoff),
        non_negative("val_still_threshold", c.val_still_threshold),
        at_least_one("synth_frames", c.synth_frames),
        frac("track_face_threshold", c.track_face_threshold),
        non_negative("aux_pose_weight", c.aux_pose_weight),
        non_negative("time", c.time),
        non_negative(
            "export_int8_max_nme_delta",
            c.export_int8_max_nme_delta.unwrap_or(0.0),
        ),
        non_negative("face_cls_weight", c.face_cls_weight),
        non_negative("w_jaw", c.w_jaw),
        non_negative("w_leyeb", c.w_leyeb),
        non_negative("w_reyeb", c.w_reyeb),
        non_negative("w_nose", c.w_nose),
        non_negative("w_nosetip", c.w_nosetip),
        non_negative("w_leye", c.w_leye),
        non_negative("w_reye", c.w_reye),
        non_negative("w_mount", c.w_mount),
        non_negative("w_purpil", c.w_purpil),
        at_least_one("epoch", c.epoch),
        at_least_one("batch_size", c.batch_size),
        at_least_one("lmk_num", c.lmk_num),
        at_least_one("synth_count", c.synth_count),
        at_least_one("export_calib", c.export_calib),
        Rule {
            key: "synth_frame_width",
            value: f64::from(c.synth_frame_width),
            lo: 64.0,
            hi: 8192.0,
        },
        Rule {
            key: "synth_frame_height",
            value: f64::from(c.synth_frame_height),
            lo: 64.0,
            hi: 8192.0,
        },
        Rule {
            key: "imgsz",
            value: c.imgsz as f64,
            lo: 32.0,
            hi: 4096.0,
        },
        Rule {
            key: "export_opset",
            value: c.export_opset as f64,
            lo: 17.0,
            hi: 23.0,
        },
    ]
}

/// Checks every range; `origin` and `raw` describe a key for the error.
pub fn check(
    cfg: &Config,
    origin: impl Fn(&str) -> Origin,
    raw: impl Fn(&str) -> String,
) -> Result<(), ConfigError> {
    let invalid = |key: &str, expected: String| ConfigError::InvalidValue {
        key: key.to_string(),
        expected,
        found: raw(key),
        origin: origin(key),
    };
    for rule in rules(cfg) {
        if !rule.value.is_finite() || rule.value < rule.lo || rule.value > rule.hi {
            let expected = match (rule.lo, rule.hi) {
                (lo, hi) if hi.is_infinite() && lo == f64::MIN_POSITIVE => {
                    "a number > 0".to_string()
                }
                (lo, hi) if hi.is_infinite() => format!("a number >= {lo}"),
                (lo, hi) => format!("a number in [{lo}, {hi}]"),
            };
            return Err(invalid(rule.key, expected));
        }
    }
    if let Err(expected) = crate::device::DeviceSpec::parse(&cfg.device) {
        return Err(invalid("device", expected));
    }
    if cfg.val_trend_window < 5 || cfg.val_trend_window.is_multiple_of(2) {
        return Err(invalid(
            "val_trend_window",
            "an odd number of frames >= 5".into(),
        ));
    }
    let buckets = &cfg.pose_buckets;
    if buckets.iter().any(|b| !b.is_finite() || *b <= 0.0)
        || buckets.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(invalid(
            "pose_buckets",
            "increasing positive yaw edges in degrees, e.g. [30, 40]".into(),
        ));
    }
    Ok(())
}
