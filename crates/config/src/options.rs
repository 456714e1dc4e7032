//! Enumerated values of configuration keys, spelled as in the original fdfat.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text $(, alias = $alias)*)] $variant),+
        }

        impl $name {
            /// Every accepted spelling, in declaration order (canonical names only).
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The canonical spelling, as written in YAML.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// What the `fdfat` command does.
    Task {
        /// Train a model (stage 1 landmarks or stage 2 face classification).
        Train => "train",
        /// Evaluate a checkpoint on a split.
        Val => "val",
        /// Predict landmarks on images.
        Predict => "predict",
        /// Export a checkpoint (ONNX).
        Export => "export",
        /// Track faces in a video or frame folder.
        Track => "track",
        /// Print the model's per-block parameters and multiply-adds.
        Info => "info",
        /// Render the toy synthetic dataset.
        Synth => "synth",
        /// Generate face / non-face crops from WIDER FACE style boxes.
        Facecrops => "facecrops",
    }
}

named_enum! {
    /// Model architecture.
    ModelKind {
        /// The lightweight IdentifyBlock model (ReLU6 by default).
        LwModel => "LWModel",
        /// The CSP (C2f) variant (SiLU by default).
        LwCspModel => "LWCSPModel",
    }
}

named_enum! {
    /// Activation function, named as the `torch.nn` class the original instantiated.
    Activation {
        /// min(max(x, 0), 6).
        Relu6 => "ReLU6",
        /// x * sigmoid(x).
        Silu => "SiLU",
        /// max(x, 0).
        Relu => "ReLU",
        /// x * relu6(x + 3) / 6.
        Hardswish => "Hardswish",
        /// max(x, 0.01 x).
        LeakyRelu => "LeakyReLU",
        /// Gaussian error linear unit.
        Gelu => "GELU",
        /// Hyperbolic tangent.
        Tanh => "Tanh",
        /// Logistic sigmoid.
        Sigmoid => "Sigmoid",
        /// Learnable per-channel leaky slope.
        Prelu => "PReLU",
        /// x * tanh(softplus(x)).
        Mish => "Mish",
    }
}

named_enum! {
    /// Optimizer, named as the `torch.optim` class.
    OptimizerKind {
        /// Adam with Nesterov momentum (PyTorch NAdam semantics).
        NAdam => "NAdam",
        /// Adam.
        Adam => "Adam",
        /// Adam with decoupled weight decay.
        AdamW => "AdamW",
        /// SGD with momentum 0.95, Nesterov.
        Sgd => "SGD",
    }
}

named_enum! {
    /// Learning-rate schedule over the epochs (after any warm-up).
    LrSchedule {
        /// The original's `LinearLR`: linear from `lr` to `lr * lre_factor`.
        Linear => "linear",
        /// Half a cosine from `lr` to `lr * lre_factor`.
        Cosine => "cosine",
    }
}

named_enum! {
    /// What picks `weights/best`.
    BestMetric {
        /// The validation loss (the original).
        Loss => "loss",
        /// The validation NME.
        Nme => "nme",
    }
}

named_enum! {
    /// Landmark regression loss, named as the `torch.nn` class.
    LossKind {
        /// Mean absolute error.
        L1 => "L1Loss",
        /// Mean squared error.
        Mse => "MSELoss",
        /// Huber-style smooth L1 (beta 1).
        SmoothL1 => "SmoothL1Loss",
        /// Wing loss (Feng et al. 2018).
        Wing => "WingLoss",
    }
}

named_enum! {
    /// Face classification loss.
    FaceLossKind {
        /// Binary cross entropy on the sigmoid output.
        Bce => "BCELoss",
    }
}

named_enum! {
    /// Split of the data YAML.
    Split {
        /// Training split.
        Train => "train",
        /// Validation split.
        Val => "val",
        /// Test split.
        Test => "test",
    }
}

named_enum! {
    /// NME normalisation distance.
    NmeNorm {
        /// Distance between the outer eye corners.
        InterOcular => "inter_ocular",
        /// Distance between the pupils (eye centres).
        InterPupil => "inter_pupil",
    }
}

named_enum! {
    /// How the tracker smooths the landmarks it reports.
    Smoother {
        /// The measured landmarks as they are.
        None => "none",
        /// The original's constant-velocity Kalman filter per landmark (one step per frame).
        Kalman => "kalman",
        /// The One-Euro filter per coordinate (Casiez et al. 2012), timed by the input.
        OneEuro => "one_euro",
    }
}
