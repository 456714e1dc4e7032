//! Channel slices and concatenations of `f32` NCHW buffers (the C2f blocks' split and join)
//! and their gradients, one sample per rayon task; burn's own run on one thread.

use super::norm::Planes;
use rayon::prelude::*;
use std::ops::Range;

/// Channels `range` of every sample of `x` (`at`), as `[n, range.len(), hw]`.
pub fn pick(x: &[f32], at: Planes, range: Range<usize>) -> Vec<f32> {
    let part = range.len() * at.hw;
    let mut out = vec![0.0f32; at.n * part];
    if part == 0 {
        return out;
    }
    out.par_chunks_mut(part).enumerate().for_each(|(n, dst)| {
        dst.copy_from_slice(&x[(n * at.c + range.start) * at.hw..][..part]);
    });
    out
}

/// `[n, c, hw]` (`at`) holding each of `parts` (`[n, channels, hw]` values and their
/// channels) at the channels that follow the previous part's, zeros elsewhere; `first` is
/// the channel the first part starts at.
pub fn place(parts: &[(&[f32], usize)], at: Planes, first: usize) -> Vec<f32> {
    let sample = at.c * at.hw;
    let mut out = vec![0.0f32; at.n * sample];
    if sample == 0 {
        return out;
    }
    out.par_chunks_mut(sample).enumerate().for_each(|(n, dst)| {
        let mut start = first * at.hw;
        for &(values, channels) in parts {
            let len = channels * at.hw;
            dst[start..start + len].copy_from_slice(&values[n * len..][..len]);
            start += len;
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picked_channels_placed_back_are_the_input() {
        let at = Planes { n: 3, c: 5, hw: 4 };
        let x: Vec<f32> = (0..60).map(|v| v as f32).collect();
        let (head, tail) = (pick(&x, at, 0..2), pick(&x, at, 2..5));
        assert_eq!(&head[8..16], &x[20..28], "sample 1, channels 0-1");
        assert_eq!(place(&[(&head, 2), (&tail, 3)], at, 0), x);
        let widened = place(&[(&tail, 3)], at, 2);
        assert!(widened[..8].iter().all(|&v| v == 0.0));
        assert_eq!(&widened[8..20], &x[8..20]);
    }
}
