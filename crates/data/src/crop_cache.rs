//! The pre-cropped image cache: for every sample, the region any training crop can reach (the
//! landmark extent's centre +- its larger side, clipped to the image; the whole image for
//! samples without landmarks), downscaled to at most `2 * imgsz` pixels a side, stored as RGB8
//! in one file and memory-mapped, so that epochs skip decoding full-size images.
//!
//! File layout (little-endian): magic `FDFATCC1`, fingerprint `u64`, count `u64`, then per
//! sample `offset u64, width u32, height u32, origin_x f32, origin_y f32, scale_x f32,
//! scale_y f32`, then the pixels. An entry of width 0 is an image that failed to decode.

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::geometry::{Affine2, extent};
use crate::image_io::read_rgb;
use crate::prepare::Source;
use crate::progress;
use image::imageops::{self, FilterType};
use std::borrow::Cow;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

const MAGIC: &[u8; 8] = b"FDFATCC1";
const HEADER: usize = 24;
const ENTRY: usize = 32;
/// Half-side of the cached region, in units of the landmark extent's larger side.
const REGION_HALF: f64 = 1.0;
/// The cached region is at most this many output sizes a side.
const MAX_SIDE_FACTOR: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    offset: u64,
    width: u32,
    height: u32,
    origin: [f32; 2],
    scale: [f32; 2],
}

impl Entry {
    fn len(&self) -> usize {
        self.width as usize * self.height as usize * 3
    }
}

/// An entry to build: where it goes and the image region it is made from.
#[derive(Debug, Clone, Copy)]
struct Planned {
    entry: Entry,
    region: [u32; 4],
}

#[derive(Debug)]
enum Storage {
    Mapped(memmap2::Mmap),
    Memory(Vec<u8>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped(m) => m,
            Storage::Memory(v) => v,
        }
    }
}

/// Pre-cropped, downscaled face regions of a dataset (see the module documentation).
#[derive(Debug)]
pub struct CropCache {
    storage: Storage,
    entries: Vec<Entry>,
    images: Vec<PathBuf>,
    file: Option<PathBuf>,
}

impl CropCache {
    /// Opens the cache `file` when it matches the dataset, else builds it (decoding every image
    /// once in `threads` threads) and writes it there; without a file, or when it cannot be
    /// written, the cache is kept in memory.
    pub(crate) fn open_or_build(
        dataset: &Dataset,
        imgsz: usize,
        file: Option<&Path>,
        fingerprint: u64,
        threads: usize,
    ) -> Result<Self, DataError> {
        let fingerprint = crate::rng::mix(fingerprint ^ imgsz as u64);
        let images = dataset.samples().iter().map(|s| s.image.clone()).collect();
        if let Some(path) = file
            && let Some((storage, entries)) = open_mapped(path, fingerprint, dataset.len())
        {
            return Ok(CropCache {
                storage,
                entries,
                images,
                file: Some(path.to_path_buf()),
            });
        }
        let layout = plan(dataset, imgsz);
        if let Some(path) = file {
            match build_file(dataset, &layout, path, fingerprint, threads) {
                Ok(()) => {
                    if let Some((storage, entries)) = open_mapped(path, fingerprint, dataset.len())
                    {
                        return Ok(CropCache {
                            storage,
                            entries,
                            images,
                            file: Some(path.to_path_buf()),
                        });
                    }
                }
                Err(e) => eprintln!(
                    "warning: cannot write the crop cache `{}` ({e}); keeping it in memory",
                    path.display()
                ),
            }
        }
        let total = layout
            .last()
            .map_or(0, |p| p.entry.offset as usize + p.entry.len());
        let mut data = vec![0u8; total];
        let mut entries: Vec<Entry> = layout.iter().map(|p| p.entry).collect();
        fill(dataset, &layout, threads, |index, pixels| {
            match pixels {
                Some(px) => {
                    let at = entries[index].offset as usize;
                    data[at..at + px.len()].copy_from_slice(&px);
                }
                None => entries[index].width = 0,
            }
            Ok(())
        })?;
        Ok(CropCache {
            storage: Storage::Memory(data),
            entries,
            images,
            file: None,
        })
    }

    /// Number of cached samples.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no sample.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total size in bytes (header, index and pixels).
    pub fn size_bytes(&self) -> usize {
        self.storage.bytes().len()
    }

    /// The cache file, when the cache is memory-mapped from disk.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The cached pixels of sample `index` as a warp source.
    pub(crate) fn source(&self, index: usize) -> Result<Source<'_>, DataError> {
        let e = self.entries.get(index).ok_or_else(|| DataError::Invalid {
            what: "crop cache index",
            message: format!(
                "{index} is beyond the {} cached samples",
                self.entries.len()
            ),
        })?;
        if e.width == 0 {
            return Err(DataError::image(
                &self.images[index],
                "could not be decoded when the crop cache was built",
            ));
        }
        let start = e.offset as usize;
        let data = self
            .storage
            .bytes()
            .get(start..start + e.len())
            .ok_or_else(|| DataError::Invalid {
                what: "crop cache",
                message: "the cache file is truncated".into(),
            })?;
        let image_to_view =
            Affine2::translation(-f64::from(e.origin[0]), -f64::from(e.origin[1])).then(
                &Affine2::scaling(f64::from(e.scale[0]), f64::from(e.scale[1])),
            );
        Ok(Source {
            data: Cow::Borrowed(data),
            width: e.width as usize,
            height: e.height as usize,
            image_to_view,
        })
    }
}

/// The region and stored size of every sample (offsets relative to the pixel data).
fn plan(dataset: &Dataset, imgsz: usize) -> Vec<Planned> {
    let mut offset = 0u64;
    dataset
        .samples()
        .iter()
        .map(|s| {
            let [w, h] = s.image_size;
            let (x0, y0, x1, y1) = match extent(&s.landmarks) {
                Some((lo, hi)) => {
                    let half = (hi[0] - lo[0]).max(hi[1] - lo[1]) * REGION_HALF + 1.0;
                    let (cx, cy) = ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0);
                    let clip = |v: f64, n: u32| v.clamp(0.0, f64::from(n)) as u32;
                    (
                        clip((cx - half).floor(), w),
                        clip((cy - half).floor(), h),
                        clip((cx + half).ceil(), w),
                        clip((cy + half).ceil(), h),
                    )
                }
                None => (0, 0, w, h),
            };
            let (rw, rh) = (
                (x1.saturating_sub(x0)).max(1),
                (y1.saturating_sub(y0)).max(1),
            );
            let k = (MAX_SIDE_FACTOR * imgsz as f64 / f64::from(rw.max(rh))).min(1.0);
            let cw = (f64::from(rw) * k).round().max(1.0) as u32;
            let ch = (f64::from(rh) * k).round().max(1.0) as u32;
            let entry = Entry {
                offset,
                width: cw,
                height: ch,
                origin: [x0 as f32, y0 as f32],
                scale: [
                    (f64::from(cw) / f64::from(rw)) as f32,
                    (f64::from(ch) / f64::from(rh)) as f32,
                ],
            };
            offset += entry.len() as u64;
            Planned {
                entry,
                region: [x0, y0, rw, rh],
            }
        })
        .collect()
}

/// Decodes and downscales every sample in `threads` threads, handing each result (in any
/// order) to `sink`; `None` marks an image that failed to decode.
fn fill(
    dataset: &Dataset,
    layout: &[Planned],
    threads: usize,
    mut sink: impl FnMut(usize, Option<Vec<u8>>) -> std::io::Result<()>,
) -> Result<(), DataError> {
    let bar = progress::bar(layout.len(), "crop cache");
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, Option<Vec<u8>>)>(threads.max(1) * 4);
    let result = std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= layout.len() {
                        break;
                    }
                    let pixels = region_pixels(&dataset.samples()[i].image, &layout[i]);
                    if tx.send((i, pixels)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, pixels) in rx {
            if pixels.is_none() {
                eprintln!(
                    "warning: crop cache: cannot decode `{}`",
                    dataset.samples()[i].image.display()
                );
            }
            sink(i, pixels)?;
            bar.inc(1);
        }
        Ok::<(), std::io::Error>(())
    });
    bar.finish_and_clear();
    result.map_err(|e| DataError::io("write", "crop cache", e))
}

fn region_pixels(image: &Path, p: &Planned) -> Option<Vec<u8>> {
    let img = read_rgb(image).ok()?;
    let [x0, y0, rw, rh] = p.region;
    if x0 + rw > img.width() || y0 + rh > img.height() {
        return None;
    }
    let region = imageops::crop_imm(&img, x0, y0, rw, rh).to_image();
    let (w, h) = (p.entry.width, p.entry.height);
    let out = if (rw, rh) == (w, h) {
        region
    } else {
        imageops::resize(&region, w, h, FilterType::Triangle)
    };
    Some(out.into_raw())
}

fn build_file(
    dataset: &Dataset,
    layout: &[Planned],
    path: &Path,
    fingerprint: u64,
    threads: usize,
) -> std::io::Result<()> {
    let data_start = (HEADER + ENTRY * layout.len()) as u64;
    let mut entries: Vec<Entry> = layout
        .iter()
        .map(|p| Entry {
            offset: p.entry.offset + data_start,
            ..p.entry
        })
        .collect();
    let end = entries
        .last()
        .map_or(data_start, |e| e.offset + e.len() as u64);
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.set_len(end)?;
    let written = fill(dataset, layout, threads, |i, pixels| {
        match pixels {
            Some(px) => {
                file.seek(SeekFrom::Start(entries[i].offset))?;
                file.write_all(&px)?;
            }
            None => entries[i].width = 0,
        }
        Ok(())
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(std::io::Error::other(e.to_string()));
    }
    let mut header = Vec::with_capacity(data_start as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&fingerprint.to_le_bytes());
    header.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for e in &entries {
        header.extend_from_slice(&e.offset.to_le_bytes());
        header.extend_from_slice(&e.width.to_le_bytes());
        header.extend_from_slice(&e.height.to_le_bytes());
        for v in [e.origin[0], e.origin[1], e.scale[0], e.scale[1]] {
            header.extend_from_slice(&v.to_le_bytes());
        }
    }
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

fn open_mapped(path: &Path, fingerprint: u64, count: usize) -> Option<(Storage, Vec<Entry>)> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: the cache file is private to fdfat and only ever replaced by an atomic rename of a
    // new file (never written in place), so the mapped bytes do not change while mapped.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let bytes: &[u8] = &map;
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return None;
    }
    let u64_at = |at: usize| {
        bytes
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default()))
    };
    let f32_at = |at: usize| u32_at(at).map(f32::from_bits);
    if u64_at(8)? != fingerprint || u64_at(16)? != count as u64 {
        return None;
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let at = HEADER + i * ENTRY;
        let e = Entry {
            offset: u64_at(at)?,
            width: u32_at(at + 8)?,
            height: u32_at(at + 12)?,
            origin: [f32_at(at + 16)?, f32_at(at + 20)?],
            scale: [f32_at(at + 24)?, f32_at(at + 28)?],
        };
        if e.offset as usize + e.len() > bytes.len() {
            return None;
        }
        entries.push(e);
    }
    Some((Storage::Mapped(map), entries))
}
