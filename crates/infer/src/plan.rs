//! The engine's program: feature maps (values) in NHWC layout, the steps that read and write
//! channel ranges of them, and the assignment of values to a few reusable buffers by liveness
//! so that the working set stays in cache and nothing is allocated per call.

use super::kernels::{Dense, Depthwise, Direct, GlobalPool, Pointwise, Stem};
use fdfat_simd::{Aligned, Isa};
use std::time::{Duration, Instant};

/// One image's feature map: `h x w` pixels of `c` channels, stored pixel by pixel (NHWC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
    /// Channels (the stride from one pixel to the next).
    pub c: usize,
}

impl Shape {
    /// Pixels of one image.
    pub fn pixels(&self) -> usize {
        self.h * self.w
    }

    /// Values of one image.
    pub fn len(&self) -> usize {
        self.pixels() * self.c
    }
}

/// Channels `offset..offset + channels` of value number `value` (shape `shape`): how a layer
/// writes one part of a concatenation, or reads one half of a split, without copying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Which value.
    pub value: usize,
    /// The value's shape.
    pub shape: Shape,
    /// First channel.
    pub offset: usize,
    /// Number of channels.
    pub channels: usize,
}

impl View {
    /// Channels `offset..offset + channels` of this view.
    pub fn part(&self, offset: usize, channels: usize) -> Self {
        Self {
            offset: self.offset + offset,
            channels,
            ..*self
        }
    }
}

/// What a step computes.
#[derive(Debug)]
pub enum Kernel {
    /// A convolution reading the NCHW model input.
    Stem(Stem),
    /// A 1x1 convolution or linear layer (one matrix product).
    Pointwise(Pointwise),
    /// A dense kxk convolution (im2col and a matrix product).
    Dense(Dense),
    /// A dense kxk convolution with few output channels, computed directly.
    Direct(Direct),
    /// A depth-wise convolution.
    Depthwise(Depthwise),
    /// A global average or max pool.
    Pool(GlobalPool),
}

/// One layer of the program.
#[derive(Debug)]
pub struct Step {
    /// The layer's module path (`backbone.conv21.conv1`).
    pub name: String,
    /// What it computes.
    pub kernel: Kernel,
}

impl Step {
    /// The views the step reads (the model input is not a value).
    fn reads(&self) -> Vec<View> {
        match &self.kernel {
            Kernel::Stem(_) => vec![],
            Kernel::Pointwise(k) => std::iter::once(k.src)
                .chain(k.residual.as_ref().map(|r| r.src))
                .collect(),
            Kernel::Dense(k) => vec![k.src],
            Kernel::Direct(k) => vec![k.src],
            Kernel::Depthwise(k) => vec![k.src],
            Kernel::Pool(k) => vec![k.src],
        }
    }

    /// The view the step writes.
    fn writes(&self) -> View {
        match &self.kernel {
            Kernel::Stem(k) => k.dst,
            Kernel::Pointwise(k) => k.dst,
            Kernel::Dense(k) => k.dst,
            Kernel::Direct(k) => k.dst,
            Kernel::Depthwise(k) => k.dst,
            Kernel::Pool(k) => k.dst,
        }
    }

    /// Values of the im2col buffer the step needs.
    fn scratch(&self) -> usize {
        match &self.kernel {
            Kernel::Dense(k) => k.scratch_len(),
            _ => 0,
        }
    }
}

/// The whole program with its buffer assignment.
#[derive(Debug)]
pub struct Plan {
    /// Layers in execution order.
    pub steps: Vec<Step>,
    /// Model input, one image: `[3, h, w]` as channels, rows, columns.
    pub input: Shape,
    /// The output rows (a `1 x 1` value).
    pub output: View,
    /// Buffer of each value.
    slot_of: Vec<usize>,
    /// Values of one image each buffer holds at most.
    slot_len: Vec<usize>,
    /// Values the im2col buffer holds at most.
    scratch_len: usize,
    /// The kernels' instruction set.
    pub isa: Isa,
}

/// The buffers of one running plan, grown to the largest batch seen and then reused.
#[derive(Debug, Default)]
pub struct Workspace {
    slots: Vec<Aligned>,
    scratch: Aligned,
    batch: usize,
}

impl Plan {
    /// The plan of `steps` over `values`, giving buffers to values by liveness.
    pub fn new(steps: Vec<Step>, values: Vec<Shape>, input: Shape, output: View) -> Self {
        let (slot_of, slot_len) = assign_slots(&steps, &values, output.value);
        let scratch_len = steps.iter().map(Step::scratch).max().unwrap_or(0);
        Self {
            steps,
            input,
            output,
            slot_of,
            slot_len,
            scratch_len,
            isa: Isa::detect(),
        }
    }

    /// Number of distinct buffers.
    #[cfg(test)]
    pub fn buffers(&self) -> usize {
        self.slot_len.len()
    }

    /// Runs the program on `n` NCHW images in `input` (`n * input.len()` values), writing
    /// `n` output rows to `output`; `times`, when given, receives each step's duration.
    pub fn run(
        &self,
        ws: &mut Workspace,
        input: &[f32],
        n: usize,
        output: &mut [f32],
        mut times: Option<&mut [Duration]>,
    ) {
        self.reserve(ws, n);
        for (i, step) in self.steps.iter().enumerate() {
            let start = times.is_some().then(Instant::now);
            let slot = self.slot_of[step.writes().value];
            let mut dst = std::mem::take(&mut ws.slots[slot]);
            let read = |view: View| &ws.slots[self.slot_of[view.value]][..];
            match &step.kernel {
                Kernel::Stem(k) => k.run(self.isa, n, input, &mut dst),
                Kernel::Pointwise(k) => {
                    let skip = k.residual.as_ref().map(|r| read(r.src));
                    k.run(self.isa, n, read(k.src), skip, &mut dst);
                }
                Kernel::Dense(k) => k.run(self.isa, n, read(k.src), &mut ws.scratch, &mut dst),
                Kernel::Direct(k) => k.run(self.isa, n, read(k.src), &mut dst),
                Kernel::Depthwise(k) => k.run(self.isa, n, read(k.src), &mut dst),
                Kernel::Pool(k) => k.run(self.isa, n, read(k.src), &mut dst),
            }
            ws.slots[slot] = dst;
            if let (Some(times), Some(start)) = (times.as_deref_mut(), start) {
                times[i] = start.elapsed();
            }
        }
        let row = self.output.channels;
        let result = &ws.slots[self.slot_of[self.output.value]];
        let stride = self.output.shape.c;
        for (b, out) in output.chunks_exact_mut(row).take(n).enumerate() {
            let start = b * stride + self.output.offset;
            out.copy_from_slice(&result[start..start + row]);
        }
    }

    /// Grows the workspace's buffers for a batch of `n`.
    fn reserve(&self, ws: &mut Workspace, n: usize) {
        if ws.slots.len() == self.slot_len.len() && ws.batch >= n {
            return;
        }
        let batch = n.max(ws.batch);
        ws.slots = self
            .slot_len
            .iter()
            .map(|&l| Aligned::zeroed(l * batch))
            .collect();
        ws.scratch = Aligned::zeroed(self.scratch_len);
        ws.batch = batch;
    }
}

/// Gives each value a buffer: values whose lifetimes (first to last step touching them) do
/// not overlap share one. The output value is kept to the end. Returns the buffer of each
/// value and the per-image length of each buffer.
fn assign_slots(steps: &[Step], values: &[Shape], output: usize) -> (Vec<usize>, Vec<usize>) {
    let mut first = vec![usize::MAX; values.len()];
    let mut last = vec![0; values.len()];
    for (i, step) in steps.iter().enumerate() {
        for view in step.reads().into_iter().chain([step.writes()]) {
            first[view.value] = first[view.value].min(i);
            last[view.value] = last[view.value].max(i);
        }
    }
    last[output] = usize::MAX;
    let mut order: Vec<usize> = (0..values.len())
        .filter(|&v| first[v] != usize::MAX)
        .collect();
    order.sort_by_key(|&v| first[v]);
    let mut slot_of = vec![0; values.len()];
    // per buffer: per-image length and the last step of the value it holds
    let mut slots: Vec<(usize, usize)> = Vec::new();
    for v in order {
        let len = values[v].len();
        let free = (0..slots.len())
            .filter(|&s| slots[s].1 < first[v])
            .max_by_key(|&s| (slots[s].0 >= len, usize::MAX - slots[s].0.abs_diff(len)));
        let s = free.unwrap_or_else(|| {
            slots.push((0, 0));
            slots.len() - 1
        });
        slots[s] = (slots[s].0.max(len), last[v]);
        slot_of[v] = s;
    }
    (slot_of, slots.into_iter().map(|(len, _)| len).collect())
}
