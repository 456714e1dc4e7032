//! LWModel: a PReLU stem and IdentifyBlocks to 1/4 resolution, then IdentifyBlocks over three
//! pyramid levels whose global average pools are concatenated.

use crate::blocks::{Activation, IdentifyBlock, StemConv, global_avg_pool};
use crate::cost::Feature;
use crate::spec::ModelSpec;
use crate::summary::{BlockError, Rows};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

/// IdentifyBlock expansion of the backbone and pyramid blocks (doubled in the mainstream).
const EXPAND: usize = 2;

/// Stem and five IdentifyBlocks; output `16m x H/4 x W/4`.
#[derive(Module, Debug)]
pub struct LwBackbone {
    pub(crate) conv11: StemConv,
    pub(crate) conv21: IdentifyBlock,
    pub(crate) conv22: IdentifyBlock,
    pub(crate) conv23: IdentifyBlock,
    pub(crate) conv24: IdentifyBlock,
    pub(crate) conv25: IdentifyBlock,
}

impl LwBackbone {
    /// The backbone `spec` describes.
    pub(crate) fn new(spec: &ModelSpec, device: &Device) -> Self {
        let c = spec.width(16);
        Self {
            conv11: StemConv::new(3, 16, device),
            conv21: IdentifyBlock::new(16, c, EXPAND, 2, device),
            conv22: IdentifyBlock::new(c, c, EXPAND, 1, device),
            conv23: IdentifyBlock::new(c, c, EXPAND, 1, device),
            conv24: IdentifyBlock::new(c, c, EXPAND, 1, device),
            conv25: IdentifyBlock::new(c, c, EXPAND, 1, device),
        }
    }

    /// Width of the output feature map for a model of `spec`.
    pub(crate) fn out_channels(spec: &ModelSpec) -> usize {
        spec.width(16)
    }

    /// Applies the backbone.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<4> {
        let x = self.conv11.forward(x);
        let x = self.conv21.forward(x, act);
        let x = self.conv22.forward(x, act);
        let x = self.conv23.forward(x, act);
        let x = self.conv24.forward(x, act);
        self.conv25.forward(x, act)
    }

    /// Records each block's row; returns the output shape.
    pub(crate) fn rows(&self, input: Feature, rows: &mut Rows) -> Result<Feature, BlockError> {
        let x = rows.feature("backbone.conv11", &self.conv11, self.conv11.walk(input))?;
        let blocks = [
            ("backbone.conv21", &self.conv21),
            ("backbone.conv22", &self.conv22),
            ("backbone.conv23", &self.conv23),
            ("backbone.conv24", &self.conv24),
            ("backbone.conv25", &self.conv25),
        ];
        blocks.into_iter().try_fold(x, |x, (name, block)| {
            rows.feature(name, block, block.walk(x))
        })
    }

    /// The stem (module path `backbone.conv11`).
    pub fn stem(&self) -> &StemConv {
        &self.conv11
    }

    /// The IdentifyBlocks after the stem, in order, with their module paths in a
    /// [`LandmarkModel`](crate::LandmarkModel) (`backbone.conv21` to `backbone.conv25`).
    pub fn blocks(&self) -> [(&'static str, &IdentifyBlock); 5] {
        [
            ("backbone.conv21", &self.conv21),
            ("backbone.conv22", &self.conv22),
            ("backbone.conv23", &self.conv23),
            ("backbone.conv24", &self.conv24),
            ("backbone.conv25", &self.conv25),
        ]
    }
}

/// IdentifyBlocks to 1/8 resolution, then three pyramid levels (1/8, 1/16, 1/16) whose global
/// average pools are concatenated: `3 x 128m` features.
#[derive(Module, Debug)]
pub struct LwMainstream {
    pub(crate) conv11: IdentifyBlock,
    pub(crate) conv21: IdentifyBlock,
    pub(crate) conv22: IdentifyBlock,
    pub(crate) conv23: IdentifyBlock,
    pub(crate) conv24: IdentifyBlock,
    pub(crate) conv25: IdentifyBlock,
    pub(crate) convp1: IdentifyBlock,
    pub(crate) convp2: IdentifyBlock,
    pub(crate) convp3: IdentifyBlock,
}

impl LwMainstream {
    /// The mainstream `spec` describes.
    pub(crate) fn new(spec: &ModelSpec, device: &Device) -> Self {
        let (c16, c32, c64, c128) = (
            spec.width(16),
            spec.width(32),
            spec.width(64),
            spec.width(128),
        );
        let wide = 2 * EXPAND;
        Self {
            conv11: IdentifyBlock::new(c16, c32, EXPAND, 2, device),
            conv21: IdentifyBlock::new(c32, c32, wide, 1, device),
            conv22: IdentifyBlock::new(c32, c32, wide, 1, device),
            conv23: IdentifyBlock::new(c32, c64, wide, 1, device),
            conv24: IdentifyBlock::new(c64, c64, wide, 1, device),
            conv25: IdentifyBlock::new(c64, c64, wide, 1, device),
            convp1: IdentifyBlock::new(c64, c128, EXPAND, 1, device),
            convp2: IdentifyBlock::new(c128, c128, EXPAND, 2, device),
            convp3: IdentifyBlock::new(c128, c128, EXPAND, 1, device),
        }
    }

    /// Length of the concatenated feature vector for a model of `spec`.
    pub(crate) fn out_features(spec: &ModelSpec) -> usize {
        3 * spec.width(128)
    }

    /// Applies the mainstream: `[N, 3 x 128m]` features.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<2> {
        let x = self.conv11.forward(x, act);
        let x = self.conv21.forward(x, act);
        let x = self.conv22.forward(x, act);
        let x = self.conv23.forward(x, act);
        let x = self.conv24.forward(x, act);
        let x = self.conv25.forward(x, act);
        let x1 = self.convp1.forward(x, act);
        let x2 = self.convp2.forward(x1.clone(), act);
        let x3 = self.convp3.forward(x2.clone(), act);
        Tensor::cat(
            vec![
                global_avg_pool(x1),
                global_avg_pool(x2),
                global_avg_pool(x3),
            ],
            1,
        )
    }

    /// Records each block's row.
    pub(crate) fn rows(&self, input: Feature, rows: &mut Rows) -> Result<(), BlockError> {
        let blocks = [
            ("mainstream.conv11", &self.conv11),
            ("mainstream.conv21", &self.conv21),
            ("mainstream.conv22", &self.conv22),
            ("mainstream.conv23", &self.conv23),
            ("mainstream.conv24", &self.conv24),
            ("mainstream.conv25", &self.conv25),
            ("mainstream.convp1", &self.convp1),
            ("mainstream.convp2", &self.convp2),
            ("mainstream.convp3", &self.convp3),
        ];
        blocks
            .into_iter()
            .try_fold(input, |x, (name, block)| {
                rows.feature(name, block, block.walk(x))
            })
            .map(|_| ())
    }

    /// The IdentifyBlocks before the pyramid, in order, with their module paths in a
    /// [`LandmarkModel`](crate::LandmarkModel) (`mainstream.conv11`, `mainstream.conv21` to
    /// `mainstream.conv25`).
    pub fn blocks(&self) -> [(&'static str, &IdentifyBlock); 6] {
        [
            ("mainstream.conv11", &self.conv11),
            ("mainstream.conv21", &self.conv21),
            ("mainstream.conv22", &self.conv22),
            ("mainstream.conv23", &self.conv23),
            ("mainstream.conv24", &self.conv24),
            ("mainstream.conv25", &self.conv25),
        ]
    }

    /// The three pyramid IdentifyBlocks, in order, each on the previous one's output, with
    /// their module paths (`mainstream.convp1` to `mainstream.convp3`); the global average
    /// pools of their outputs are concatenated.
    pub fn pyramid(&self) -> [(&'static str, &IdentifyBlock); 3] {
        [
            ("mainstream.convp1", &self.convp1),
            ("mainstream.convp2", &self.convp2),
            ("mainstream.convp3", &self.convp3),
        ]
    }
}
