//! Global average and max pools of NHWC maps, written into a channel range of a feature
//! vector (a `1 x 1` map) so that concatenating pyramid levels costs nothing.

use crate::plan::View;
use fdfat_simd::{F32x16, Isa, simd_kernel};

/// Which reduction over the pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// The mean.
    Average,
    /// The maximum.
    Max,
}

/// A global pool: one value per channel of `src` into the channels of `dst`.
#[derive(Debug)]
pub struct GlobalPool {
    /// The reduction.
    pub kind: PoolKind,
    /// The feature map.
    pub src: View,
    /// The channels of a `1 x 1` value to write.
    pub dst: View,
}

impl GlobalPool {
    /// Computes `n` images from the value `src` into the value `dst`.
    pub fn run(&self, isa: Isa, n: usize, src: &[f32], dst: &mut [f32]) {
        let image = self.src.shape.len();
        for b in 0..n {
            let args = Image {
                op: self,
                src: &src[b * image..(b + 1) * image],
                dst: &mut dst[b * self.dst.shape.c + self.dst.offset..][..self.dst.channels],
            };
            pool(isa, args);
        }
    }
}

/// One image of a [`GlobalPool`].
type Image<'a> = super::Image<'a, GlobalPool>;

simd_kernel! {
    /// One image of a global pool.
    fn pool(args: Image<'_>) => pool_body
}

#[inline(always)]
// `V` picks the instruction set `simd_kernel!` compiles this auto-vectorised body for
#[allow(clippy::extra_unused_type_parameters)]
fn pool_body<V: F32x16>(a: Image<'_>) {
    let (shape, offset) = (a.op.src.shape, a.op.src.offset);
    let c = a.dst.len();
    let pixel = |p: usize| &a.src[p * shape.c + offset..][..c];
    a.dst.copy_from_slice(pixel(0));
    for p in 1..shape.pixels() {
        let x = pixel(p);
        match a.op.kind {
            PoolKind::Average => a.dst.iter_mut().zip(x).for_each(|(d, v)| *d += v),
            PoolKind::Max => a.dst.iter_mut().zip(x).for_each(|(d, v)| *d = d.max(*v)),
        }
    }
    if a.op.kind == PoolKind::Average {
        let scale = 1.0 / shape.pixels() as f32;
        a.dst.iter_mut().for_each(|d| *d *= scale);
    }
}
