//! Landmarks tracked through video, measured against per-frame annotations.
//!
//! The input of one sequence is, per frame, its number, the annotation (when usable), the
//! faces the tracker reported and the time each tracker stage took ([`TrackedFrame`]). The
//! face evaluated in a frame is the reported face whose landmark box overlaps the annotation's
//! box most, at IoU >= 0.3; a frame with an annotation and no such face is *lost*.
//!
//! Definitions (points are compared in the layout's evaluated scheme, see [`crate::layout`];
//! `d_t` is frame `t`'s normaliser, the same as NME's: `nme_norm` of the annotation; `p` are
//! the reported (smoothed) points, `g` the annotated ones, `N` the number of compared points):
//!
//! - **NME** of frame `t`: `mean_i |p_i,t - g_i,t| / d_t`.
//! - **Segments**: still, move and turn runs of frames from the sequence's `segments.json`;
//!   without it they are derived from the annotations: frame `t` is still when the annotated
//!   points moved less than `still_threshold` since frame `t - 1`
//!   (`mean_i |g_i,t - g_i,t-1| / d_t`), else moving; maximal runs of either kind form the
//!   segments (derived moving runs count as turns for the lag).
//! - **Still jitter** of frame `t` (both `t - 1` and `t` in the same still segment, both
//!   tracked): `mean_i |(p_i,t - p_i,t-1) - (g_i,t - g_i,t-1)| / d_t`, the frame-to-frame motion
//!   of the landmarks less the true motion (zero on labelled still segments). The sequence's
//!   figure is the mean over such frames.
//! - **High-frequency jitter** of a frame `t` outside still segments whose centred window of
//!   `trend_window` consecutive frames is tracked: with the error `e_i,t = p_i,t - g_i,t` and its
//!   trend `ē_i,t`, the value at `t` of the least-squares quadratic through `e_i` over the window
//!   (Savitzky-Golay smoothing, order 2), `mean_i |e_i,t - ē_i,t| / d_t`: what is left of the
//!   error once its slow part (bias, lag, which a quadratic follows even through a fast turn) is
//!   removed. Alternating noise of amplitude `a` leaves `a (1 + 13/35)` with a 5-frame window.
//! - **Lag** of a turn segment: over its frames and the [`LAG_TAIL`] frames after it (tracked
//!   and annotated), the shift `s` (frames, on a grid of [`LAG_STEP`] from [`LAG_MIN`] to
//!   [`LAG_MAX`]) minimising `mean_t mean_i |p_i,t - g_i(t - s)| / d_t`, where `g(t - s)` is
//!   interpolated linearly between annotated frames: how many frames the landmarks trail the
//!   true motion. The sequence's figure is the mean over its turns.
//! - **Tracking events**: lost frames (annotated, no matching face), re-acquisitions (a
//!   matching face again after lost frames), identity switches (the matched track id differs
//!   from the previous matched frame's) and the number of distinct matched ids.
//! - **Latency** per processed frame: detector (frames it ran on), landmark model, tracking
//!   (association, smoothing, head pose) and their total, in milliseconds, as median and 95th
//!   percentile (linear interpolation).

mod frames;
mod lag;
mod plot;
mod report;
mod summary;

pub use frames::{
    FrameRecord, MotionParams, ReportedFace, SequenceResult, StageLatency, TrackedFrame,
    evaluate_sequence,
};
pub use lag::{LAG_MAX, LAG_MIN, LAG_STEP, LAG_TAIL, TurnLag};
pub use plot::{jitter_lag_png, nme_over_time_png};
pub use report::{Comparison, SmootherRun, VideoReport, VideoReportFiles};
pub use summary::{Latency, Spread, Summary};
