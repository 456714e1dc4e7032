//! LWCSPModel: a stride-2 Conv and two C2f blocks at 1/2 resolution, then stride-2 Conv + C2f
//! stages whose last three outputs (1/8, 1/16, 1/32) are global-max-pooled and concatenated.

use crate::blocks::{Activation, C2f, ConvBn, ConvSpec, global_max_pool};
use crate::cost::Feature;
use crate::spec::ModelSpec;
use crate::summary::{BlockError, Rows};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

/// Stem conv and two C2f blocks; output `32m x H/2 x W/2`.
#[derive(Module, Debug)]
pub struct CspBackbone {
    pub(crate) conv11: ConvBn,
    pub(crate) c2f1: C2f,
    pub(crate) c2f2: C2f,
}

impl CspBackbone {
    /// The backbone `spec` describes.
    pub(crate) fn new(spec: &ModelSpec, device: &Device) -> Self {
        let (c8, c16, c32) = (spec.width(8), spec.width(16), spec.width(32));
        Self {
            conv11: ConvBn::new(ConvSpec::new(3, c8, 3, 2), device),
            c2f1: C2f::new(c8, c16, device),
            c2f2: C2f::new(c16, c32, device),
        }
    }

    /// Width of the output feature map for a model of `spec`.
    pub(crate) fn out_channels(spec: &ModelSpec) -> usize {
        spec.width(32)
    }

    /// Applies the backbone.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<4> {
        let x = self.conv11.forward(x, act);
        let x = self.c2f1.forward(x, act);
        self.c2f2.forward(x, act)
    }

    /// Records each block's row; returns the output shape.
    pub(crate) fn rows(&self, input: Feature, rows: &mut Rows) -> Result<Feature, BlockError> {
        let x = rows.feature("backbone.conv11", &self.conv11, self.conv11.walk(input))?;
        let x = rows.feature("backbone.c2f1", &self.c2f1, self.c2f1.walk(x))?;
        rows.feature("backbone.c2f2", &self.c2f2, self.c2f2.walk(x))
    }

    /// The stride-2 stem convolution (module path `backbone.conv11`).
    pub fn stem(&self) -> &ConvBn {
        &self.conv11
    }

    /// The two C2f blocks after the stem, in order, with their module paths in a
    /// [`LandmarkModel`](crate::LandmarkModel) (`backbone.c2f1`, `backbone.c2f2`).
    pub fn c2f_blocks(&self) -> [(&'static str, &C2f); 2] {
        [("backbone.c2f1", &self.c2f1), ("backbone.c2f2", &self.c2f2)]
    }
}

/// Four stride-2 Conv + C2f stages; the last three outputs are global-max-pooled and
/// concatenated: `3 x 96m` features.
#[derive(Module, Debug)]
pub struct CspMainstream {
    pub(crate) conv11: ConvBn,
    pub(crate) conv12: C2f,
    pub(crate) conv21: ConvBn,
    pub(crate) conv22: C2f,
    pub(crate) convp21: ConvBn,
    pub(crate) convp22: C2f,
    pub(crate) convp31: ConvBn,
    pub(crate) convp32: C2f,
}

impl CspMainstream {
    /// The mainstream `spec` describes.
    pub(crate) fn new(spec: &ModelSpec, device: &Device) -> Self {
        let (c32, c64, c96) = (spec.width(32), spec.width(64), spec.width(96));
        Self {
            conv11: ConvBn::new(ConvSpec::new(c32, c32, 3, 2), device),
            conv12: C2f::new(c32, c64, device),
            conv21: ConvBn::new(ConvSpec::new(c64, c64, 3, 2), device),
            conv22: C2f::new(c64, c96, device),
            convp21: ConvBn::new(ConvSpec::new(c96, c96, 3, 2), device),
            convp22: C2f::new(c96, c96, device),
            convp31: ConvBn::new(ConvSpec::new(c96, c96, 3, 2), device),
            convp32: C2f::new(c96, c96, device),
        }
    }

    /// Length of the concatenated feature vector for a model of `spec`.
    pub(crate) fn out_features(spec: &ModelSpec) -> usize {
        3 * spec.width(96)
    }

    /// Applies the mainstream: `[N, 3 x 96m]` features.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<2> {
        let x = self.conv11.forward(x, act);
        let x = self.conv12.forward(x, act);
        let x = self.conv21.forward(x, act);
        let x1 = self.conv22.forward(x, act);
        let x = self.convp21.forward(x1.clone(), act);
        let x2 = self.convp22.forward(x, act);
        let x = self.convp31.forward(x2.clone(), act);
        let x3 = self.convp32.forward(x, act);
        Tensor::cat(
            vec![
                global_max_pool(x1),
                global_max_pool(x2),
                global_max_pool(x3),
            ],
            1,
        )
    }

    /// Records each block's row.
    pub(crate) fn rows(&self, input: Feature, rows: &mut Rows) -> Result<(), BlockError> {
        let x = rows.feature("mainstream.conv11", &self.conv11, self.conv11.walk(input))?;
        let x = rows.feature("mainstream.conv12", &self.conv12, self.conv12.walk(x))?;
        let x = rows.feature("mainstream.conv21", &self.conv21, self.conv21.walk(x))?;
        let x = rows.feature("mainstream.conv22", &self.conv22, self.conv22.walk(x))?;
        let x = rows.feature("mainstream.convp21", &self.convp21, self.convp21.walk(x))?;
        let x = rows.feature("mainstream.convp22", &self.convp22, self.convp22.walk(x))?;
        let x = rows.feature("mainstream.convp31", &self.convp31, self.convp31.walk(x))?;
        rows.feature("mainstream.convp32", &self.convp32, self.convp32.walk(x))?;
        Ok(())
    }

    /// The four stages in order, each a stride-2 convolution then a C2f, with their module
    /// paths in a [`LandmarkModel`](crate::LandmarkModel) (`mainstream.conv11` and
    /// `mainstream.conv12` to `mainstream.convp31` and `mainstream.convp32`); the global max
    /// pools of the last three stages' outputs are concatenated.
    pub fn stages(&self) -> [CspStage<'_>; 4] {
        [
            CspStage {
                conv: ("mainstream.conv11", &self.conv11),
                c2f: ("mainstream.conv12", &self.conv12),
            },
            CspStage {
                conv: ("mainstream.conv21", &self.conv21),
                c2f: ("mainstream.conv22", &self.conv22),
            },
            CspStage {
                conv: ("mainstream.convp21", &self.convp21),
                c2f: ("mainstream.convp22", &self.convp22),
            },
            CspStage {
                conv: ("mainstream.convp31", &self.convp31),
                c2f: ("mainstream.convp32", &self.convp32),
            },
        ]
    }
}

/// One stage of a [`CspMainstream`], its blocks with their module paths.
#[derive(Debug, Clone, Copy)]
pub struct CspStage<'a> {
    /// The stride-2 convolution.
    pub conv: (&'static str, &'a ConvBn),
    /// The C2f on the convolution's output.
    pub c2f: (&'static str, &'a C2f),
}
