//! The register-blocked loop of the stride-1 dense convolutions ([`super::shifted`]): on
//! zero-bordered planes laid out on one padded grid, every kernel tap is a constant offset, so a
//! run of grid positions of one output channel is a sum over (input channel, tap) of a weight
//! times the input run at that offset. A block of output channels and one or two registers of
//! positions stay in registers over the whole sum: each step loads the input run once and
//! multiplies it by one broadcast weight per output channel of the block, where a matrix
//! product per tap (`k` = the input channels, 8-48 here) would read and write its whole
//! output once per tap.

use fdfat_simd::{F32x16, Isa, LANES, lanes_mut, lanes_unchecked, simd_kernel};

/// Weights of a correlation, packed for [`correlate`]: output channels in blocks of
/// [`Packed::BLOCK`] (the last zero padded), each block `[c_src][tap][BLOCK]`.
#[derive(Debug)]
pub struct Packed {
    data: Vec<f32>,
    /// Output channels (unpadded).
    c_dst: usize,
    /// Input channels.
    c_src: usize,
    /// Taps per input channel.
    taps: usize,
}

impl Packed {
    /// Output channels per register block: the most an instruction set's registers hold
    /// (8 for one 16-lane register per value, 4 for two).
    const BLOCK: usize = 8;

    /// Packs `weight(o, i, t)` for `c_dst` outputs, `c_src` inputs and `taps` taps.
    pub fn new(
        c_dst: usize,
        c_src: usize,
        taps: usize,
        weight: impl Fn(usize, usize, usize) -> f32,
    ) -> Self {
        let blocks = c_dst.div_ceil(Self::BLOCK);
        let mut data = vec![0.0; blocks * c_src * taps * Self::BLOCK];
        // one lane row per (block, input, tap); none when there are no inputs or taps
        for (row, lane) in data.chunks_exact_mut(Self::BLOCK).enumerate() {
            let (b, i, t) = (row / (c_src * taps), row / taps % c_src, row % taps);
            for (j, w) in lane.iter_mut().enumerate() {
                let o = b * Self::BLOCK + j;
                if o < c_dst {
                    *w = weight(o, i, t);
                }
            }
        }
        Self {
            data,
            c_dst,
            c_src,
            taps,
        }
    }

    /// Output channels rounded up to whole blocks.
    pub fn padded_outputs(&self) -> usize {
        self.c_dst.div_ceil(Self::BLOCK) * Self::BLOCK
    }
}

/// One correlation of [`correlate`].
pub struct Correlation<'a> {
    /// The packed weights.
    pub weights: &'a Packed,
    /// Offset of each tap from a position, in the source planes.
    pub offsets: &'a [usize],
    /// `weights.c_src` planes, `plane` values apart; must extend `len + max(offsets)` values
    /// past the start of the last plane.
    pub src: &'a [f32],
    /// Distance between two source planes.
    pub plane: usize,
    /// Positions to compute per output channel, a multiple of [`STEP`].
    pub len: usize,
    /// `weights.padded_outputs()` rows of `len` values.
    pub dst: &'a mut [f32],
}

/// Positions one pass of the widest block computes: a multiple of every block's width.
pub const STEP: usize = 2 * LANES;

/// `dst[o][q] = sum over i, t of w(o, i, t) * src[i * plane + q + offsets[t]]` for `q < len`.
///
/// # Panics
///
/// When a buffer is shorter than stated.
pub fn correlate(isa: Isa, job: Correlation) {
    let (weights, plane, len) = (job.weights, job.plane, job.len);
    assert_eq!(job.offsets.len(), weights.taps, "one offset per tap");
    assert_eq!(len % STEP, 0, "whole passes");
    let reach = job.offsets.iter().max().copied().unwrap_or(0) + len;
    assert!(
        weights.c_src == 0 || job.src.len() >= (weights.c_src - 1) * plane + reach,
        "correlate: source shorter than its planes"
    );
    assert!(job.dst.len() >= weights.padded_outputs() * len);
    run(isa, job);
}

simd_kernel! {
    /// [`correlate`] after its checks.
    fn run(job: Correlation) => blocks
}

/// Picks the block shape for the registers of `V`.
#[inline(always)]
fn blocks<V: F32x16>(job: Correlation) {
    if V::REGISTERS == 1 {
        block_rows::<V, 8, 2>(job);
    } else {
        block_rows::<V, 4, 1>(job);
    }
}

/// `CB` output channels x `Q` registers of positions per pass, accumulated in registers.
#[inline(always)]
fn block_rows<V: F32x16, const CB: usize, const Q: usize>(job: Correlation) {
    let Correlation {
        weights,
        offsets,
        src,
        plane,
        len,
        dst,
    } = job;
    let per_block = weights.c_src * weights.taps * Packed::BLOCK;
    // `CB` divides `Packed::BLOCK`, so the padded outputs are whole groups
    let groups = dst[..weights.padded_outputs() * len].chunks_exact_mut(CB * len);
    for (o0, group) in groups.enumerate().map(|(g, rows)| (g * CB, rows)) {
        let block = &weights.data[o0 / Packed::BLOCK * per_block..][..per_block];
        let lane0 = o0 % Packed::BLOCK;
        for q in (0..len).step_by(Q * LANES) {
            let mut acc = [[V::splat(0.0); Q]; CB];
            for i in 0..weights.c_src {
                let base = i * plane + q;
                for (t, &offset) in offsets.iter().enumerate() {
                    let w = &block[(i * weights.taps + t) * Packed::BLOCK + lane0..][..CB];
                    // SAFETY: `correlate` checked that every plane extends `len` values past
                    // its largest offset, and `q + Q * LANES <= len`.
                    let x: [V; Q] = std::array::from_fn(|r| {
                        V::load(unsafe { lanes_unchecked(src, base + offset + r * LANES) })
                    });
                    for (acc, &w) in acc.iter_mut().zip(w) {
                        let w = V::splat(w);
                        for (a, &x) in acc.iter_mut().zip(&x) {
                            *a = a.mul_add(w, x);
                        }
                    }
                }
            }
            for (row, acc) in group.chunks_exact_mut(len).zip(&acc) {
                for (r, a) in acc.iter().enumerate() {
                    a.store(lanes_mut(&mut row[q + r * LANES..]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instruction_set_correlates_as_the_definition() {
        let (c_dst, c_src, plane, len) = (11, 3, 80, STEP * 2);
        let offsets = [0, 1, 5, 9];
        let src: Vec<f32> = (0..c_src * plane + len)
            .map(|v| ((v * 37) % 17) as f32 - 8.0)
            .collect();
        let w = |o: usize, i: usize, t: usize| (o * 7 + i * 3 + t) as f32 * 0.25 - 2.0;
        let packed = Packed::new(c_dst, c_src, offsets.len(), w);
        for isa in Isa::supported() {
            let mut dst = vec![f32::NAN; packed.padded_outputs() * len];
            correlate(
                isa,
                Correlation {
                    weights: &packed,
                    offsets: &offsets,
                    src: &src,
                    plane,
                    len,
                    dst: &mut dst,
                },
            );
            for o in 0..c_dst {
                for q in 0..len {
                    let want: f32 = (0..c_src)
                        .flat_map(|i| offsets.iter().enumerate().map(move |(t, &d)| (i, t, d)))
                        .map(|(i, t, d)| w(o, i, t) * src[i * plane + q + d])
                        .sum();
                    assert_eq!(dst[o * len + q], want, "{isa:?} o={o} q={q}");
                }
            }
        }
    }
}
