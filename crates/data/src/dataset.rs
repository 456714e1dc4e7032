//! A split of a dataset: its samples, parsed in parallel, cached, with bad samples reported.

use crate::crop_cache::CropCache;
use crate::error::DataError;
use crate::formats::{self, Entry, ParseContext};
use crate::progress;
use crate::sample::{Pose, Sample};
use crate::split;
use fdfat_config::{Config, DataConfig, DataFormat, LandmarkScheme, Split};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Version of the annotation cache layout; bump to invalidate old caches.
const CACHE_VERSION: u32 = 1;
/// The true-pose file of a toy dataset, at the dataset root.
pub const POSES_FILE: &str = "poses.txt";

/// A sample left out because it could not be read (`skip_bad: true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file at fault (annotation, list or image).
    pub path: PathBuf,
    /// The error, as text.
    pub reason: String,
}

/// The samples of one split of a dataset, in split order.
#[derive(Debug)]
pub struct Dataset {
    samples: Vec<Sample>,
    scheme: LandmarkScheme,
    format: DataFormat,
    skipped: Vec<Skipped>,
    fingerprint: u64,
    cache_base: Option<PathBuf>,
    crop_caches: Mutex<HashMap<usize, Arc<CropCache>>>,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    fingerprint: u64,
    samples: Vec<Sample>,
    skipped: Vec<Skipped>,
}

impl Dataset {
    /// Opens `split` of the dataset described by `data`: resolves the list file or folder,
    /// parses every annotation by `data.format` (in `cfg.workers` threads), reads each image's
    /// size, and uses or refreshes the annotation cache beside the list (`cfg.cache`). With
    /// `cfg.skip_bad`, unreadable samples are left out and reported; otherwise the first one is
    /// an error naming its file and line.
    pub fn open(data: &DataConfig, split: Split, cfg: &Config) -> Result<Dataset, DataError> {
        let scheme = LandmarkScheme::load(data.scheme())?;
        let root = data.root()?;
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        let split_path = data.split_path(split)?;
        let split_path = std::fs::canonicalize(&split_path).unwrap_or(split_path);
        let resolved = split::resolve(&root, &split_path, data.format)?;
        let poses = if data.format == DataFormat::FaceSynthetics {
            read_poses(&root.join(POSES_FILE))?
        } else {
            HashMap::new()
        };
        let mut fp = crate::rng::Fnv::new();
        fp.write(&resolved.fingerprint.to_le_bytes());
        fp.write(&(scheme.num_points as u64).to_le_bytes());
        fp.write(&CACHE_VERSION.to_le_bytes());
        let fingerprint = fp.finish();
        let cache_base = cache_base(&split_path, split);
        let cache_file = with_suffix(&cache_base, "cache");

        if cfg.cache
            && let Some(cached) = read_cache(&cache_file, fingerprint)
            && (cfg.skip_bad || cached.skipped.is_empty())
        {
            report_skipped(&cached.skipped, &split_path);
            return Ok(Dataset {
                samples: cached.samples,
                scheme,
                format: data.format,
                skipped: cached.skipped,
                fingerprint,
                cache_base: Some(cache_base),
                crop_caches: Mutex::default(),
            });
        }

        let ctx = ParseContext {
            root: &root,
            num_points: scheme.num_points,
            poses: &poses,
        };
        let results = parse_all(data.format, &resolved.entries, &ctx, cfg.workers.max(1))?;
        let mut samples = Vec::with_capacity(results.len());
        let mut skipped = Vec::new();
        for result in results {
            match result {
                Ok(s) => samples.push(s),
                Err(e) if cfg.skip_bad => skipped.push(Skipped {
                    path: error_path(&e),
                    reason: e.to_string(),
                }),
                Err(e) => return Err(e),
            }
        }
        report_skipped(&skipped, &split_path);
        if samples.is_empty() {
            return Err(DataError::EmptySplit {
                path: split_path,
                hint: format!(" (all {} entries were skipped as bad)", skipped.len()),
            });
        }
        if cfg.cache {
            write_cache(&cache_file, fingerprint, &samples, &skipped);
        }
        Ok(Dataset {
            samples,
            scheme,
            format: data.format,
            skipped,
            fingerprint,
            cache_base: Some(cache_base),
            crop_caches: Mutex::default(),
        })
    }

    /// A dataset made of given samples (tests, tools), checking each landmark count against
    /// the scheme. No cache file is written for it.
    pub fn from_samples(
        samples: Vec<Sample>,
        scheme: LandmarkScheme,
    ) -> Result<Dataset, DataError> {
        for s in &samples {
            if s.has_landmarks() && s.landmarks.len() != scheme.num_points {
                return Err(formats::numbers::count_error(
                    &s.image,
                    s.landmarks.len(),
                    scheme.num_points,
                ));
            }
        }
        if samples.is_empty() {
            return Err(DataError::Invalid {
                what: "dataset",
                message: "no samples".into(),
            });
        }
        Ok(Dataset {
            samples,
            scheme,
            format: DataFormat::FaceSynthetics,
            skipped: Vec::new(),
            fingerprint: 0,
            cache_base: None,
            crop_caches: Mutex::default(),
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the dataset has no sample (never true for an opened dataset).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The samples, in split order.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The dataset's landmark scheme.
    pub fn scheme(&self) -> &LandmarkScheme {
        &self.scheme
    }

    /// The annotation format the samples were read in.
    pub fn format(&self) -> DataFormat {
        self.format
    }

    /// Samples left out as bad (`skip_bad: true`), with the reason.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The crop cache for `imgsz`-pixel inputs, opened or built (in `threads` threads) on first
    /// use and kept for the dataset's lifetime. It lives beside the annotation cache when that
    /// folder is writable, else in memory.
    pub fn crop_cache(&self, imgsz: usize, threads: usize) -> Result<Arc<CropCache>, DataError> {
        let mut caches = self
            .crop_caches
            .lock()
            .map_err(|_| DataError::Worker("crop cache lock poisoned".into()))?;
        if let Some(c) = caches.get(&imgsz) {
            return Ok(c.clone());
        }
        let file = self
            .cache_base
            .as_ref()
            .map(|b| with_suffix(b, &format!("crops{imgsz}")));
        let cache = Arc::new(CropCache::open_or_build(
            self,
            imgsz,
            file.as_deref(),
            self.fingerprint,
            threads,
        )?);
        caches.insert(imgsz, cache.clone());
        Ok(cache)
    }
}

/// `base` with `.suffix` appended to its file name.
fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// `<list>.fdfat` beside a list file, `<folder>/.fdfat-<split>` inside a split folder.
fn cache_base(split_path: &Path, split: Split) -> PathBuf {
    if split_path.is_dir() {
        split_path.join(format!(".fdfat-{split}"))
    } else {
        let name = split_path.file_name().unwrap_or_default().to_string_lossy();
        split_path.with_file_name(format!("{name}.fdfat"))
    }
}

fn parse_all(
    format: DataFormat,
    entries: &[Entry],
    ctx: &ParseContext,
    threads: usize,
) -> Result<Vec<Result<Sample, DataError>>, DataError> {
    const CHUNK: usize = 64;
    let bar = progress::bar(entries.len(), "parsing");
    let next = AtomicUsize::new(0);
    type Part = (usize, Vec<Result<Sample, DataError>>);
    let joined: Vec<std::thread::Result<Vec<Part>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(entries.len().div_ceil(CHUNK)).max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= entries.len() {
                            break done;
                        }
                        let end = (start + CHUNK).min(entries.len());
                        let chunk = entries[start..end]
                            .iter()
                            .map(|e| formats::parse(format, e, ctx))
                            .collect();
                        bar.inc((end - start) as u64);
                        done.push((start, chunk));
                    }
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join()).collect()
    });
    bar.finish_and_clear();
    let mut parts = Vec::new();
    for part in joined {
        parts.extend(
            part.map_err(|_| DataError::Worker("an annotation parsing thread panicked".into()))?,
        );
    }
    parts.sort_by_key(|(start, _)| *start);
    Ok(parts.into_iter().flat_map(|(_, c)| c).collect())
}

fn error_path(e: &DataError) -> PathBuf {
    match e {
        DataError::Io { path, .. }
        | DataError::Annotation { path, .. }
        | DataError::Image { path, .. }
        | DataError::EmptySplit { path, .. } => path.clone(),
        _ => PathBuf::new(),
    }
}

fn report_skipped(skipped: &[Skipped], split: &Path) {
    if skipped.is_empty() {
        return;
    }
    eprintln!(
        "warning: skipped {} bad sample(s) of `{}` (skip_bad: true):",
        skipped.len(),
        split.display()
    );
    for s in skipped.iter().take(20) {
        eprintln!("  {}", s.reason);
    }
    if skipped.len() > 20 {
        eprintln!("  ... and {} more", skipped.len() - 20);
    }
}

fn read_cache(path: &Path, fingerprint: u64) -> Option<CacheFile> {
    let bytes = std::fs::read(path).ok()?;
    let cache: CacheFile = serde_json::from_slice(&bytes).ok()?;
    (cache.version == CACHE_VERSION && cache.fingerprint == fingerprint).then_some(cache)
}

fn write_cache(path: &Path, fingerprint: u64, samples: &[Sample], skipped: &[Skipped]) {
    let file = CacheFile {
        version: CACHE_VERSION,
        fingerprint,
        samples: samples.to_vec(),
        skipped: skipped.to_vec(),
    };
    let written = serde_json::to_vec(&file)
        .map_err(std::io::Error::other)
        .and_then(|bytes| fdfat_config::write_atomic(path, &bytes));
    if let Err(e) = written {
        eprintln!(
            "warning: cannot write the annotation cache `{}` ({e}); it will be rebuilt next time",
            path.display()
        );
    }
}

/// Reads `poses.txt` (`name yaw pitch roll` per line, degrees, `#` comments), if it exists.
pub(crate) fn read_poses(path: &Path) -> Result<HashMap<String, Pose>, DataError> {
    let mut poses = HashMap::new();
    if !path.is_file() {
        return Ok(poses);
    }
    let text = formats::numbers::read_text(path)?;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 4 {
            return Err(DataError::annotation(
                path,
                Some(i + 1),
                format!("expected `name yaw pitch roll`, found `{line}`"),
            ));
        }
        let num = |t: &str| formats::numbers::finite(t, path, i + 1);
        poses.insert(
            fields[0].to_string(),
            Pose {
                yaw: num(fields[1])?,
                pitch: num(fields[2])?,
                roll: num(fields[3])?,
            },
        );
    }
    Ok(poses)
}
