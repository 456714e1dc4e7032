//! The data YAML's val split as model inputs: calibration batches for the int8 model, and the
//! NME of exported models on the split (the reference protocol of `--task val`: eval crop,
//! predictions mapped back to original-image pixels, `nme_norm`).

use crate::error::ExportError;
use crate::lower::InputLayout;
use crate::runtime::OnnxRunner;
use crate::verify::SampleBatch;
use fdfat_config::{Config, DataConfig, LandmarkScheme, Split};
use fdfat_data::{Batch, Dataset, Loader, LoaderMode};
use fdfat_eval::{Evaluator, Report, Sample};
use std::sync::Arc;

/// Batch size of calibration and evaluation runs.
const BATCH: usize = 16;

/// The val split of a data YAML, opened for one configuration.
pub struct ValSplit<'a> {
    cfg: &'a Config,
    dataset: Arc<Dataset>,
}

impl<'a> ValSplit<'a> {
    /// Opens the val split of `data` (`cfg.imgsz`, `cfg.lmk_num`, `cfg.pre_norm` apply).
    pub fn open(cfg: &'a Config, data: &DataConfig) -> Result<Self, ExportError> {
        let dataset = Arc::new(Dataset::open(data, Split::Val, cfg)?);
        if dataset.is_empty() {
            return Err(ExportError::Config {
                key: "data",
                value: data.source.display().to_string(),
                reason: "its val split has no sample to calibrate or evaluate on".into(),
            });
        }
        Ok(Self { cfg, dataset })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.dataset.len()
    }

    /// Whether the split is empty (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.dataset.is_empty()
    }

    /// The eval-crop batches of the split, in order.
    fn batches(&self) -> Result<Loader, ExportError> {
        Ok(Loader::new(
            self.dataset.clone(),
            self.cfg,
            LoaderMode::Eval,
            BATCH,
            self.cfg.workers,
        )?)
    }

    /// The first `count` images (or all) of the split as sample batches.
    pub fn images(&self, count: usize) -> Result<Vec<SampleBatch>, ExportError> {
        let mut out = Vec::new();
        let mut taken = 0;
        for batch in self.batches()? {
            if taken >= count {
                break;
            }
            let batch = batch?;
            let keep = batch.len().min(count - taken);
            out.push(self.sample_batch(&batch, keep));
            taken += keep;
        }
        Ok(out)
    }

    /// The first `keep` images of `batch`: the loader's float pixels (normalised) and the
    /// same rounded to uint8 for a uint8-input model.
    fn sample_batch(&self, batch: &Batch, keep: usize) -> SampleBatch {
        let size = batch.size;
        let mut normalised = batch.images[..keep * size * size * 3].to_vec();
        if !self.cfg.pre_norm {
            normalised.iter_mut().for_each(|v| *v = *v / 127.5 - 1.0);
        }
        SampleBatch::from_normalised(keep, size, normalised)
    }

    /// The evaluation report (mean NME, per pose bucket, ...) of each runner (each with its
    /// input layout) on the split's annotated faces, and the number of faces.
    pub fn nme(
        &self,
        models: &[(&OnnxRunner, InputLayout)],
    ) -> Result<(Vec<Report>, usize), ExportError> {
        let points = self.cfg.lmk_num;
        let model_scheme =
            LandmarkScheme::for_points(points).ok_or_else(|| ExportError::Config {
                key: "lmk_num",
                value: points.to_string(),
                reason: "no built-in landmark scheme has that many points".into(),
            })?;
        let mut evaluators = models
            .iter()
            .map(|_| Evaluator::new(&model_scheme, self.dataset.scheme()))
            .collect::<Result<Vec<_>, _>>()?;
        for batch in self.batches()? {
            let batch = batch?;
            let sample = self.sample_batch(&batch, batch.len());
            for ((runner, layout), evaluator) in models.iter().zip(&mut evaluators) {
                let outputs = runner.run(sample.input(*layout))?;
                let width = outputs.len() / batch.len().max(1);
                for (k, (&index, crop)) in batch.indices.iter().zip(&batch.crops).enumerate() {
                    let truth = &self.dataset.samples()[index];
                    if !truth.has_landmarks() {
                        continue;
                    }
                    let row = &outputs[k * width..(k + 1) * width];
                    let pred = row[..2 * points]
                        .chunks_exact(2)
                        .map(|c| crop.to_image([c[0], c[1]]).map(f64::from))
                        .collect();
                    let gt = truth.landmarks.iter().map(|p| p.map(f64::from)).collect();
                    let [w, h] = truth.image_size;
                    let image = truth.image.to_string_lossy().into_owned();
                    evaluator.push(Sample::new(image, (w, h), pred, gt))?;
                }
            }
        }
        let faces = evaluators.first().map_or(0, Evaluator::len);
        let reports = evaluators
            .into_iter()
            .map(|e| e.finish(self.cfg))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((reports, faces))
    }
}
