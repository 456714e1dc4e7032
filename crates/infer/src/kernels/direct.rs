//! Dense kxk convolutions with few output channels computed directly on the NHWC map, with
//! no im2col copy: for each block of 32 (or 16) output channels, 4 to 8 neighbouring output
//! pixels (as many as the instruction set's registers hold) accumulate in registers over every
//! (tap, input channel), each step one weight row loaded once and one broadcast input value per
//! pixel. At high resolution and narrow width (the CSP
//! bottlenecks) this beats gathering windows into a matrix, whose copy costs more than the
//! arithmetic.

use super::{Strided, Window};
use crate::activation::Act;
use crate::plan::{Shape, View};
use fdfat_simd::{
    Aligned, F32x16, Isa, LANES, copy_small, lanes, lanes_mut, lanes_unchecked, simd_kernel,
};

/// The widest output the direct kernel is used for.
pub const DIRECT_MAX_CHANNELS: usize = 32;

/// A dense convolution computed directly, BatchNorm folded.
#[derive(Debug)]
pub struct Direct {
    /// Kernel, stride and padding.
    pub window: Window,
    /// `[ky][kx][c_in][c_out]` with `c_out` rounded up to a multiple of 16 (zero padded).
    pub weight: Vec<f32>,
    /// One per output channel, zero padded as the weight rows.
    pub bias: Vec<f32>,
    /// Applied to the output.
    pub act: Act,
    /// Input channels.
    pub src: View,
    /// Output channels.
    pub dst: View,
    /// The weights again for [`paired_block`], when it computes this convolution.
    pairs: Option<Pairs>,
}

/// Weights of a convolution of at most 8 output channels and an even number of input channels,
/// two input channels per register: lane `2j + h` of pair row `q` holds output channel `j` of
/// weight row `2q + h` (rows in `[ky][kx][c_in]` order), so one register multiplies one pixel's
/// two neighbouring input values, broadcast alternately, by every output channel at once.
#[derive(Debug)]
struct Pairs {
    /// `k * k * c_in / 2` rows of 16 lanes.
    weight: Vec<f32>,
    /// The bias in the even lanes.
    bias: Vec<f32>,
}

impl Pairs {
    /// The pair layout of `weight` (rows of `c_out` values) and `bias`.
    fn new(weight: &[f32], bias: &[f32], c_out: usize) -> Self {
        let weight = weight
            .chunks_exact(2 * c_out)
            .flat_map(|two| {
                (0..LANES).map(move |l| {
                    if l / 2 < c_out {
                        two[(l % 2) * c_out + l / 2]
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        let bias = (0..LANES)
            .map(|l| {
                if l % 2 == 0 && l / 2 < c_out {
                    bias[l / 2]
                } else {
                    0.0
                }
            })
            .collect();
        Self { weight, bias }
    }
}

impl Direct {
    /// The convolution with `weight` rows `[ky][kx][c_in]` of `c_out = dst.channels` values.
    pub fn new(
        window: Window,
        weight: &[f32],
        bias: &[f32],
        act: Act,
        src: View,
        dst: View,
    ) -> Self {
        let c_out = dst.channels;
        let padded = Self::padded(c_out);
        let widen = |row: &[f32]| {
            let mut wide = vec![0.0; padded];
            wide[..c_out].copy_from_slice(row);
            wide
        };
        let paired = c_out <= LANES / 2 && src.channels.is_multiple_of(2);
        Self {
            window,
            weight: weight.chunks_exact(c_out).flat_map(widen).collect(),
            bias: widen(bias),
            act,
            src,
            dst,
            pairs: paired.then(|| Pairs::new(weight, bias, c_out)),
        }
    }

    /// Output channels rounded up to whole registers.
    fn padded(channels: usize) -> usize {
        channels.div_ceil(LANES) * LANES
    }

    /// Computes `n` images from the input value `src` into the output value `dst`. A padded
    /// window first copies the image's input channels into a zero-bordered map (kept per
    /// thread), so that every output pixel takes the register-blocked path.
    pub fn run(&self, isa: Isa, n: usize, src: &[f32], dst: &mut [f32]) {
        let (image_in, image_out) = (self.src.shape.len(), self.dst.shape.len());
        assert!(src.len() >= n * image_in && dst.len() >= n * image_out);
        BORDERED.with_borrow_mut(|bordered| {
            let images = src
                .chunks_exact(image_in)
                .zip(dst.chunks_exact_mut(image_out));
            for (src, dst) in images.take(n) {
                let job = if self.window.pad == 0 {
                    Job {
                        op: self,
                        window: self.window,
                        shape: self.src.shape,
                        offset: self.src.offset,
                        src,
                        dst,
                    }
                } else {
                    let shape = self.border(src, bordered);
                    let window = Window {
                        pad: 0,
                        ..self.window
                    };
                    Job {
                        op: self,
                        window,
                        shape,
                        offset: 0,
                        src: bordered,
                        dst,
                    }
                };
                direct(isa, job);
            }
        });
    }

    /// Copies the input channels of one image into `bordered`, `pad` zero pixels around them;
    /// returns its shape.
    fn border(&self, src: &[f32], bordered: &mut Aligned) -> Shape {
        let (si, pad, c) = (self.src.shape, self.window.pad, self.src.channels);
        let shape = Shape {
            h: si.h + 2 * pad,
            w: si.w + 2 * pad,
            c,
        };
        if bordered.len() == shape.len() {
            bordered.fill(0.0);
        } else {
            *bordered = Aligned::zeroed(shape.len());
        }
        for (y, row) in src.chunks_exact(si.w * si.c).take(si.h).enumerate() {
            let line = &mut bordered[((y + pad) * shape.w + pad) * c..][..si.w * c];
            for (pixel, out) in row.chunks_exact(si.c).zip(line.chunks_exact_mut(c)) {
                out.copy_from_slice(&pixel[self.src.offset..][..c]);
            }
        }
        shape
    }
}

thread_local! {
    /// The zero-bordered input of [`Direct::run`], reused from call to call.
    static BORDERED: std::cell::RefCell<Aligned> = std::cell::RefCell::new(Aligned::default());
}

/// One image of a [`Direct`] step, read through `window` from `src` (`shape`, the input
/// channels from `offset`).
struct Job<'a> {
    op: &'a Direct,
    window: Window,
    shape: Shape,
    offset: usize,
    src: &'a [f32],
    dst: &'a mut [f32],
}

simd_kernel! {
    /// One image of a direct convolution.
    fn direct(job: Job<'_>) => direct_body
}

#[inline(always)]
fn direct_body<V: F32x16>(mut a: Job<'_>) {
    let op = a.op;
    let cout = op.dst.channels;
    let padded = Direct::padded(cout);
    let mut c0 = 0;
    if let Some(pairs) = &op.pairs {
        // one value per pixel: 8 in AVX-512's 32 registers, 4 in AVX2's 16
        if V::REGISTERS == 1 {
            paired_block::<V::Pairs, 8>(&mut a, pairs);
        } else {
            paired_block::<V::Pairs, 4>(&mut a, pairs);
        }
        c0 = padded;
    }
    if V::REGISTERS == 1 {
        // 32 registers: 8 accumulators (two channel registers x 4 pixels, or 8 pixels) keep
        // both FMA pipes busy through their latency
        while c0 + 2 * LANES <= padded {
            channel_block::<V, 2, 4>(&mut a, c0);
            c0 += 2 * LANES;
        }
        if c0 < padded {
            channel_block::<V, 1, 8>(&mut a, c0);
        }
    } else {
        // 16 registers, two per value: 6 pixels of 16 channels (12 registers), the weight row
        // (2) and the broadcast input value
        while c0 < padded {
            channel_block::<V, 1, 6>(&mut a, c0);
            c0 += LANES;
        }
    }
    let so = op.dst.shape;
    let shape = Strided {
        rows: so.pixels(),
        cols: cout,
        stride: so.c,
    };
    op.act.rows::<V>(&mut a.dst[op.dst.offset..], shape, None);
}

/// Output channels `c0..c0 + NV * 16` of every output pixel, `PIXELS` neighbours at a time
/// where their windows are inside the input.
#[inline(always)]
fn channel_block<V: F32x16, const NV: usize, const PIXELS: usize>(a: &mut Job<'_>, c0: usize) {
    let op = a.op;
    let (si, so, win) = (a.shape, op.dst.shape, a.window);
    let bias: [V; NV] = std::array::from_fn(|v| V::load(lanes(&op.bias[c0 + v * LANES..])));
    let (y_inner, x_inner) = (win.interior(so.h, si.h), win.interior(so.w, si.w));
    let groups = x_inner.len() >= PIXELS;
    for oy in 0..so.h {
        let row_inner = groups && y_inner.contains(&oy);
        let mut ox = 0;
        while ox < so.w {
            if row_inner && x_inner.contains(&ox) {
                // a group that would overrun the interior ends at its end instead,
                // recomputing a few pixels rather than leaving them to the one-pixel path
                let first = ox.min(x_inner.end - PIXELS);
                let acc = group::<V, NV, PIXELS>(a, bias, c0, oy, first);
                for (p, acc) in acc.iter().enumerate() {
                    store(a, acc, c0, oy * so.w + first + p);
                }
                ox = first + PIXELS;
            } else {
                let acc = single::<V, NV>(a, bias, c0, oy, ox);
                store(a, &acc, c0, oy * so.w + ox);
                ox += 1;
            }
        }
    }
}

/// Every output pixel of a convolution of [`Pairs`] weights, `PIXELS` neighbours at a time
/// where their windows are inside the input: one register per pixel, each step one pair row
/// loaded and one broadcast pair of input values per pixel, the pairs summed at the end.
#[inline(always)]
fn paired_block<V: F32x16, const PIXELS: usize>(a: &mut Job<'_>, pairs: &Pairs) {
    let op = a.op;
    let (si, so, win) = (a.shape, op.dst.shape, a.window);
    let (k, cin, cout) = (win.kernel, op.src.channels, op.dst.channels);
    let bias = V::load(lanes(&pairs.bias));
    let (y_inner, x_inner) = (win.interior(so.h, si.h), win.interior(so.w, si.w));
    let groups = x_inner.len() >= PIXELS;
    let step = win.stride * si.c;
    // as in `group`: one run per kernel row on a map of exactly the input channels; runs are
    // even, as `cin` is
    let (runs, run) = if si.c == cin { (1, k * cin) } else { (k, cin) };
    for oy in 0..so.h {
        let row_inner = groups && y_inner.contains(&oy);
        let mut ox = 0;
        while ox < so.w {
            if !(row_inner && x_inner.contains(&ox)) {
                let bias = [V::load(lanes(&op.bias))];
                let acc = single::<V, 1>(a, bias, 0, oy, ox);
                store(a, &acc, 0, oy * so.w + ox);
                ox += 1;
                continue;
            }
            let first = ox.min(x_inner.end - PIXELS);
            let mut acc = [bias; PIXELS];
            for ky in 0..k {
                for kx in 0..runs {
                    let at = (win.input(oy, ky) * si.w + win.input(first, kx)) * si.c + a.offset;
                    let xs: [&[f32]; PIXELS] =
                        std::array::from_fn(|p| &a.src[at + p * step..][..run]);
                    let rows = &pairs.weight[(ky * k + kx) * cin / 2 * LANES..][..run / 2 * LANES];
                    for (q, row) in rows.chunks_exact(LANES).enumerate() {
                        let w = V::load(lanes(row));
                        for (acc, x) in acc.iter_mut().zip(xs) {
                            // SAFETY: `2 q + 2 <= run`, the length of every `x`.
                            let pair = unsafe { &*x.as_ptr().add(2 * q).cast::<[f32; 2]>() };
                            *acc = acc.mul_add(w, V::splat_pair(pair));
                        }
                    }
                }
            }
            for (p, acc) in acc.into_iter().enumerate() {
                let pixel = oy * so.w + first + p;
                let out = &mut a.dst[pixel * so.c + op.dst.offset..][..cout];
                copy_small::<V>(out, &acc.sum_pairs());
            }
            ox = first + PIXELS;
        }
    }
}

/// `PIXELS` neighbouring output pixels from `(oy, ox)` whose windows are inside the input.
#[inline(always)]
fn group<V: F32x16, const NV: usize, const PIXELS: usize>(
    a: &Job<'_>,
    bias: [V; NV],
    c0: usize,
    oy: usize,
    ox: usize,
) -> [[V; NV]; PIXELS] {
    let op = a.op;
    let (si, win) = (a.shape, a.window);
    let (k, cin, padded) = (win.kernel, op.src.channels, Direct::padded(op.dst.channels));
    let step = win.stride * si.c;
    assert!(c0 + NV * LANES <= padded && op.weight.len() >= k * k * cin * padded);
    // on a map of exactly the input channels (the zero-bordered copy) a window row is one
    // run of `k * cin` values, as are its weight rows: one loop per kernel row
    let (runs, run) = if si.c == cin { (1, k * cin) } else { (k, cin) };
    let mut acc = [bias; PIXELS];
    for ky in 0..k {
        for kx in 0..runs {
            let at = (win.input(oy, ky) * si.w + win.input(ox, kx)) * si.c + a.offset;
            let xs: [&[f32]; PIXELS] = std::array::from_fn(|p| &a.src[at + p * step..][..run]);
            let rows = (ky * k + kx) * cin * padded + c0;
            for ci in 0..run {
                let row = rows + ci * padded;
                // SAFETY: `row + v * LANES + LANES <= (ky + 1) * k * cin * padded`, inside the
                // weights as asserted above.
                let w: [V; NV] = std::array::from_fn(|v| {
                    V::load(unsafe { lanes_unchecked(&op.weight, row + v * LANES) })
                });
                for (acc, x) in acc.iter_mut().zip(xs) {
                    // SAFETY: every `x` holds `run` values.
                    let x = V::splat(unsafe { *x.get_unchecked(ci) });
                    for (acc, w) in acc.iter_mut().zip(w) {
                        *acc = acc.mul_add(w, x);
                    }
                }
            }
        }
    }
    acc
}

/// One output pixel, skipping the taps in the zero padding; the input channels go round-robin
/// over 4 accumulator chains so that they overlap.
#[inline(always)]
fn single<V: F32x16, const NV: usize>(
    a: &Job<'_>,
    bias: [V; NV],
    c0: usize,
    oy: usize,
    ox: usize,
) -> [V; NV] {
    const CHAINS: usize = 4;
    let op = a.op;
    let (si, win) = (a.shape, a.window);
    let (k, cin, padded) = (win.kernel, op.src.channels, Direct::padded(op.dst.channels));
    let mut chains = [[V::splat(0.0); NV]; CHAINS];
    chains[0] = bias;
    let (ky0, ky1) = win.taps(oy, si.h);
    let (kx0, kx1) = win.taps(ox, si.w);
    for ky in ky0..ky1 {
        for kx in kx0..kx1 {
            let at = (win.input(oy, ky) * si.w + win.input(ox, kx)) * si.c + a.offset;
            let rows = &op.weight[(ky * k + kx) * cin * padded..][..cin * padded];
            let mut rows = rows.chunks_exact(CHAINS * padded);
            let mut xs = a.src[at..at + cin].chunks_exact(CHAINS);
            for (row, x) in (&mut rows).zip(&mut xs) {
                for (j, chain) in chains.iter_mut().enumerate() {
                    let x = V::splat(x[j]);
                    for (v, acc) in chain.iter_mut().enumerate() {
                        let w = V::load(lanes(&row[j * padded + c0 + v * LANES..]));
                        *acc = acc.mul_add(w, x);
                    }
                }
            }
            let rest = rows.remainder().chunks_exact(padded);
            for (row, x) in rest.zip(xs.remainder()) {
                let x = V::splat(*x);
                for (v, acc) in chains[0].iter_mut().enumerate() {
                    *acc = acc.mul_add(V::load(lanes(&row[c0 + v * LANES..])), x);
                }
            }
        }
    }
    let mut sum = chains[0];
    for chain in &chains[1..] {
        for (sum, part) in sum.iter_mut().zip(chain) {
            *sum = sum.add(*part);
        }
    }
    sum
}

/// Writes channels `c0..` of output pixel `pixel` (those below the real channel count).
#[inline(always)]
fn store<V: F32x16, const NV: usize>(a: &mut Job<'_>, acc: &[V; NV], c0: usize, pixel: usize) {
    let (so, cout) = (a.op.dst.shape, a.op.dst.channels);
    let out = &mut a.dst[pixel * so.c + a.op.dst.offset..][..cout];
    for (v, acc) in acc.iter().enumerate() {
        let c = c0 + v * LANES;
        if c + LANES <= cout {
            acc.store(lanes_mut(&mut out[c..]));
        } else {
            let mut partial = [0.0f32; LANES];
            acc.store(&mut partial);
            copy_small::<V>(&mut out[c..], &partial);
        }
    }
}
