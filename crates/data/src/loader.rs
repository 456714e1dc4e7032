//! The input pipeline: shuffles per epoch, prepares samples in worker threads ahead of the
//! consumer, and yields batches in order. Every random draw comes from an RNG seeded by
//! `(seed, epoch, sample index)`, so batches are bit-identical whatever the thread count.

use crate::augment::AugmentConfig;
use crate::batch::Batch;
use crate::crop_cache::CropCache;
use crate::dataset::{Dataset, Skipped};
use crate::error::DataError;
use crate::geometry::{Affine2, CropTransform};
use crate::image_io::read_rgb_top;
use crate::mapping::PointMap;
use crate::prepare::{PrepContext, Slot, Source, prepare};
use crate::rng::rng_for;
use fdfat_config::{Config, LandmarkScheme};
use rand::seq::SliceRandom;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Key separating the shuffle RNG stream from the per-sample streams.
const SHUFFLE_KEY: u64 = u64::MAX;

/// What the loader prepares batches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoaderMode {
    /// Shuffled order, random face boxes and augmentation, drawn from `(seed, epoch, index)`.
    Train {
        /// Epoch number (0-based): changes the order and the augmentation.
        epoch: usize,
        /// The run's seed.
        seed: u64,
    },
    /// Split order, the fixed evaluation crop, no augmentation.
    Eval,
}

struct Job {
    dataset: Arc<Dataset>,
    order: Vec<usize>,
    batch_size: usize,
    ctx: PrepContext,
    mode: LoaderMode,
    cache: Option<Arc<CropCache>>,
    skip_bad: bool,
    skipped: Mutex<Vec<Skipped>>,
}

struct Gate {
    consumed: Mutex<usize>,
    moved: Condvar,
    cancel: AtomicBool,
    next: AtomicUsize,
}

type Produced = (usize, Result<Option<Batch>, DataError>);

/// The loader threads a `workers` setting gets on this machine: at most half its cores (at
/// least one). The kernels run on every core (rayon), so the input pipeline and the model
/// share one thread budget instead of oversubscribing a small machine (the published configs
/// ask for 8 and 16 workers; on 2 cores their threads took cores from the model step).
pub fn loader_threads(workers: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    workers.min((cores / 2).max(1))
}

/// An iterator of batches over a dataset (see the module documentation).
pub struct Loader {
    job: Arc<Job>,
    num_batches: usize,
    next_out: usize,
    pending: BTreeMap<usize, Result<Option<Batch>, DataError>>,
    workers: Vec<JoinHandle<()>>,
    rx: Option<Receiver<Produced>>,
    gate: Arc<Gate>,
}

impl Loader {
    /// A loader of `dataset` in `mode`, `batch_size` samples per batch (the last may be
    /// smaller), prepared by `threads` worker threads (0: on the caller's thread; at most
    /// [`loader_threads`]). Uses
    /// `cfg.imgsz`, `cfg.lmk_num` (the model's points; the dataset scheme is mapped onto the
    /// built-in scheme of that many points), `cfg.pre_norm`, `cfg.skip_bad`, the `aug*` keys and
    /// `cfg.crop_cache` (training only).
    pub fn new(
        dataset: Arc<Dataset>,
        cfg: &Config,
        mode: LoaderMode,
        batch_size: usize,
        threads: usize,
    ) -> Result<Self, DataError> {
        if batch_size == 0 {
            return Err(DataError::Invalid {
                what: "batch size",
                message: "must be at least 1".into(),
            });
        }
        if cfg.imgsz == 0 {
            return Err(DataError::Invalid {
                what: "imgsz",
                message: "must be at least 1".into(),
            });
        }
        let points = model_point_map(dataset.scheme(), cfg.lmk_num)?;
        let mut order: Vec<usize> = (0..dataset.len()).collect();
        let (augment, cache) = match mode {
            LoaderMode::Train { epoch, seed } => {
                order.shuffle(&mut rng_for(&[seed, epoch as u64, SHUFFLE_KEY]));
                let cache = if cfg.crop_cache {
                    Some(dataset.crop_cache(cfg.imgsz, threads.max(1))?)
                } else {
                    None
                };
                (AugmentConfig::from_config(cfg), cache)
            }
            LoaderMode::Eval => (AugmentConfig::none(), None),
        };
        let ctx = PrepContext {
            size: cfg.imgsz,
            flip: dataset.scheme().flip_permutation(),
            points,
            pre_norm: cfg.pre_norm,
            augment,
        };
        let num_batches = order.len().div_ceil(batch_size);
        let job = Arc::new(Job {
            dataset,
            order,
            batch_size,
            ctx,
            mode,
            cache,
            skip_bad: cfg.skip_bad,
            skipped: Mutex::default(),
        });
        let gate = Arc::new(Gate {
            consumed: Mutex::new(0),
            moved: Condvar::new(),
            cancel: AtomicBool::new(false),
            next: AtomicUsize::new(0),
        });
        let mut loader = Loader {
            job,
            num_batches,
            next_out: 0,
            pending: BTreeMap::new(),
            workers: Vec::new(),
            rx: None,
            gate,
        };
        let threads = loader_threads(threads).min(num_batches);
        if threads > 0 {
            let (tx, rx) = channel::<Produced>();
            let window = (2 * threads).max(2);
            for t in 0..threads {
                let (job, gate, tx) = (loader.job.clone(), loader.gate.clone(), tx.clone());
                let handle = std::thread::Builder::new()
                    .name(format!("fdfat-loader-{t}"))
                    .spawn(move || worker(&job, &gate, &tx, num_batches, window))
                    .map_err(|e| DataError::Worker(format!("cannot start a loader thread: {e}")))?;
                loader.workers.push(handle);
            }
            loader.rx = Some(rx);
        }
        Ok(loader)
    }

    /// Number of batches of the epoch.
    pub fn num_batches(&self) -> usize {
        self.num_batches
    }

    /// How the dataset's points feed the model's points.
    pub fn point_map(&self) -> &PointMap {
        &self.job.ctx.points
    }

    /// Samples skipped so far because their image could not be decoded (`skip_bad: true`).
    pub fn skipped(&self) -> Vec<Skipped> {
        self.job
            .skipped
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    fn advance(&mut self) {
        self.next_out += 1;
        if let Ok(mut consumed) = self.gate.consumed.lock() {
            *consumed = self.next_out;
        }
        self.gate.moved.notify_all();
    }
}

impl Iterator for Loader {
    type Item = Result<Batch, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.next_out < self.num_batches {
            let b = self.next_out;
            let result = match &self.rx {
                None => build_batch(&self.job, b),
                Some(rx) => loop {
                    if let Some(r) = self.pending.remove(&b) {
                        break r;
                    }
                    match rx.recv() {
                        Ok((k, r)) => {
                            self.pending.insert(k, r);
                        }
                        Err(_) => {
                            self.next_out = self.num_batches;
                            return Some(Err(DataError::Worker(
                                "the loader threads stopped before the epoch ended".into(),
                            )));
                        }
                    }
                },
            };
            self.advance();
            match result {
                Ok(Some(batch)) => return Some(Ok(batch)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.num_batches - self.next_out))
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.gate.cancel.store(true, Ordering::SeqCst);
        self.gate.moved.notify_all();
        self.rx = None;
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
    }
}

fn worker(
    job: &Job,
    gate: &Gate,
    tx: &std::sync::mpsc::Sender<Produced>,
    num: usize,
    window: usize,
) {
    loop {
        let b = gate.next.fetch_add(1, Ordering::SeqCst);
        if b >= num {
            return;
        }
        {
            let Ok(mut consumed) = gate.consumed.lock() else {
                return;
            };
            while b >= *consumed + window && !gate.cancel.load(Ordering::SeqCst) {
                consumed = match gate.moved.wait(consumed) {
                    Ok(c) => c,
                    Err(_) => return,
                };
            }
        }
        if gate.cancel.load(Ordering::SeqCst) {
            return;
        }
        if tx.send((b, build_batch(job, b))).is_err() {
            return;
        }
    }
}

/// The model's points for `lmk_num`: the built-in scheme of that size (or the dataset's own
/// scheme when it has that many points), and the map from the dataset's points onto it.
pub fn model_point_map(dataset: &LandmarkScheme, lmk_num: usize) -> Result<PointMap, DataError> {
    if dataset.num_points == lmk_num {
        return Ok(PointMap::identity(lmk_num));
    }
    let model = LandmarkScheme::for_points(lmk_num).ok_or_else(|| DataError::Invalid {
        what: "lmk_num",
        message: format!(
            "no built-in landmark scheme has {lmk_num} points and the dataset's `{}` has {}",
            dataset.name, dataset.num_points
        ),
    })?;
    PointMap::between(dataset, &model)
}

/// Prepares batch `b`; `Ok(None)` when every sample of it was skipped as bad.
fn build_batch(job: &Job, b: usize) -> Result<Option<Batch>, DataError> {
    let start = b * job.batch_size;
    let ids = &job.order[start..(start + job.batch_size).min(job.order.len())];
    let size = job.ctx.size;
    let points = job.ctx.points.model_points();
    let (img_len, lmk_len) = (3 * size * size, 2 * points);
    let mut batch = Batch {
        images: vec![0.0; ids.len() * img_len],
        landmarks: vec![0.0; ids.len() * lmk_len],
        landmark_mask: vec![0.0; ids.len() * lmk_len],
        is_face: Vec::with_capacity(ids.len()),
        size,
        points,
        indices: Vec::with_capacity(ids.len()),
        crops: Vec::with_capacity(ids.len()),
    };
    for &index in ids {
        let k = batch.indices.len();
        let slot = Slot {
            image: &mut batch.images[k * img_len..(k + 1) * img_len],
            landmarks: &mut batch.landmarks[k * lmk_len..(k + 1) * lmk_len],
            mask: &mut batch.landmark_mask[k * lmk_len..(k + 1) * lmk_len],
        };
        match prepare_index(job, index, slot) {
            Ok(crop) => {
                batch.indices.push(index);
                batch.crops.push(crop);
                batch.is_face.push(if job.dataset.samples()[index].is_face {
                    1.0
                } else {
                    0.0
                });
            }
            Err(e) if job.skip_bad => {
                eprintln!("warning: skipping a bad sample (skip_bad: true): {e}");
                if let Ok(mut s) = job.skipped.lock() {
                    s.push(Skipped {
                        path: job.dataset.samples()[index].image.clone(),
                        reason: e.to_string(),
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
    let n = batch.indices.len();
    if n == 0 {
        return Ok(None);
    }
    batch.images.truncate(n * img_len);
    batch.landmarks.truncate(n * lmk_len);
    batch.landmark_mask.truncate(n * lmk_len);
    Ok(Some(batch))
}

fn prepare_index(job: &Job, index: usize, slot: Slot) -> Result<CropTransform, DataError> {
    let sample = &job.dataset.samples()[index];
    let mut rng = match job.mode {
        LoaderMode::Train { epoch, seed } => Some(rng_for(&[seed, epoch as u64, index as u64])),
        LoaderMode::Eval => None,
    };
    match &job.cache {
        Some(cache) => prepare(sample, &job.ctx, rng.as_mut(), slot, |_| {
            cache.source(index)
        }),
        None => prepare(sample, &job.ctx, rng.as_mut(), slot, |rows| {
            let top = read_rgb_top(&sample.image, rows)?;
            if [top.width, top.height] != sample.image_size {
                return Err(DataError::image(
                    &sample.image,
                    format!(
                        "is {}x{} but was {}x{} when the dataset was opened (stale annotation cache?)",
                        top.width, top.height, sample.image_size[0], sample.image_size[1]
                    ),
                ));
            }
            Ok(Source {
                data: Cow::Owned(top.data),
                width: top.width as usize,
                height: top.rows as usize,
                image_to_view: Affine2::IDENTITY,
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_takes_at_most_half_the_cores() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(loader_threads(0), 0, "0 still means the caller's thread");
        assert_eq!(loader_threads(1), 1);
        assert_eq!(loader_threads(64), (cores / 2).max(1));
        assert!(loader_threads(8) <= 8);
    }
}
