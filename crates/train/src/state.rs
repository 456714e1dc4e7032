//! Training checkpoints: `weights/last.bpk` every epoch and `weights/best.bpk` on improvement.
//!
//! Each is an fdfat-rs model checkpoint (loadable with `--checkpoint`) whose metadata also
//! records the training state: completed epochs, best validation loss and epoch, the resolved
//! configuration, and the file holding the optimizer state (`weights/optim/<name>-e<epoch>.bpk`,
//! a burnpack of burn's optimizer record). Every file is written to a scratch name and renamed;
//! the optimizer file is written first under a name of its own, then the model file that names
//! it, then optimizer files no checkpoint names are removed. A run killed at any point therefore
//! leaves a `last.bpk` whose optimizer file exists and matches it.

use crate::ema::Ema;
use crate::error::TrainError;
use burn::optim::ModuleOptimizer;
use fdfat_models::{LandmarkModel, load_checkpoint};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const EPOCH_KEY: &str = "train.epoch";
const BEST_LOSS_KEY: &str = "train.best_loss";
const BEST_EPOCH_KEY: &str = "train.best_epoch";
const OPTIMIZER_KEY: &str = "train.optimizer";
const CONFIG_KEY: &str = "train.config";
const EMA_UPDATES_KEY: &str = "train.ema_updates";

/// Progress of a run, as stored in its checkpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    /// Completed epochs.
    pub epoch: usize,
    /// Best validation score so far (`best_metric`: loss or NME; stored as
    /// `train.best_loss` for checkpoints of earlier versions).
    pub best_score: f64,
    /// 1-based epoch of the best score (0: none yet).
    pub best_epoch: usize,
}

impl TrainState {
    /// A run that has not trained yet.
    pub fn fresh() -> Self {
        Self {
            epoch: 0,
            best_score: f64::INFINITY,
            best_epoch: 0,
        }
    }
}

/// The checkpoint folder of a run (`<run dir>/weights`).
#[derive(Debug, Clone)]
pub struct Weights {
    dir: PathBuf,
}

impl Weights {
    /// The folder `run_dir/weights`, created if needed.
    pub fn create(run_dir: &Path) -> Result<Self, TrainError> {
        let dir = run_dir.join("weights");
        std::fs::create_dir_all(dir.join("optim"))
            .map_err(|e| TrainError::io("create", &dir, e))?;
        Ok(Self { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `weights/last.bpk`.
    pub fn last(&self) -> PathBuf {
        self.dir.join("last.bpk")
    }

    /// `weights/best.bpk`.
    pub fn best(&self) -> PathBuf {
        self.dir.join("best.bpk")
    }

    /// `weights/last_ema.bpk`: the weight average of `last.bpk`'s epoch (`ema`).
    pub fn last_ema(&self) -> PathBuf {
        self.dir.join("last_ema.bpk")
    }

    /// Saves the weight average after `epoch` epochs as `last_ema.bpk` (before `last.bpk`,
    /// which then names the same epoch).
    pub fn save_ema(&self, ema: &Ema, epoch: usize) -> Result<(), TrainError> {
        let metadata = BTreeMap::from([
            (EPOCH_KEY.to_string(), epoch.to_string()),
            (EMA_UPDATES_KEY.to_string(), ema.updates().to_string()),
        ]);
        fdfat_models::save_weights_with(ema.model(), self.last_ema(), &metadata)?;
        Ok(())
    }

    /// The weight average saved after `epoch` epochs, loaded into a copy of `model`; `None`
    /// (with a notice) when there is none for that epoch, and the average restarts from
    /// `model`.
    pub fn load_ema(&self, model: &LandmarkModel, epoch: usize, decay: f64) -> Ema {
        let path = self.last_ema();
        let saved = fdfat_models::checkpoint_metadata(&path)
            .ok()
            .and_then(|meta| {
                let of = |key: &str| meta.get(key).and_then(|v| v.parse::<u64>().ok());
                (of(EPOCH_KEY) == Some(epoch as u64)).then_some(of(EMA_UPDATES_KEY)?)
            });
        match saved.map(|updates| (updates, load_checkpoint(model.clone(), &path))) {
            Some((updates, Ok((average, _)))) => Ema::new(&average, decay, updates),
            _ => {
                println!(
                    "ema: no weight average of epoch {epoch} in {}; it restarts from the weights",
                    path.display()
                );
                Ema::new(model, decay, 0)
            }
        }
    }

    /// Saves `model` and `optim` as `name` (`last` or `best`) with `state` and the config.
    pub fn save(
        &self,
        name: &str,
        model: &LandmarkModel,
        optim: &ModuleOptimizer,
        state: &TrainState,
        config_yaml: &str,
    ) -> Result<(), TrainError> {
        let optim_name = format!("optim/{name}-e{}.bpk", state.epoch);
        let optim_path = self.dir.join(&optim_name);
        let scratch = self.dir.join(format!("optim/.{name}.tmp"));
        let _ = std::fs::remove_file(&scratch);
        optim.save(&scratch).map_err(|e| TrainError::Checkpoint {
            path: optim_path.clone(),
            message: format!("cannot write the optimizer state: {e}"),
        })?;
        std::fs::rename(&scratch, &optim_path)
            .map_err(|e| TrainError::io("write", &optim_path, e))?;
        let metadata = BTreeMap::from([
            (EPOCH_KEY.to_string(), state.epoch.to_string()),
            (BEST_LOSS_KEY.to_string(), state.best_score.to_string()),
            (BEST_EPOCH_KEY.to_string(), state.best_epoch.to_string()),
            (OPTIMIZER_KEY.to_string(), optim_name),
            (CONFIG_KEY.to_string(), config_yaml.to_string()),
        ]);
        fdfat_models::save_weights_with(model, self.dir.join(format!("{name}.bpk")), &metadata)?;
        self.remove_unreferenced_optimizers();
        Ok(())
    }

    /// Reads the training state of a checkpoint and returns it with its optimizer file.
    pub fn read_state(path: &Path) -> Result<(TrainState, PathBuf), TrainError> {
        let meta = fdfat_models::checkpoint_metadata(path)?;
        let bad = |message: String| TrainError::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| bad(format!("it holds no training state (`{key}` missing): not written by `fdfat --task train`")))
        };
        let parse_err = |key: &str| bad(format!("`{key}` is not a number"));
        let state = TrainState {
            epoch: get(EPOCH_KEY)?.parse().map_err(|_| parse_err(EPOCH_KEY))?,
            best_score: get(BEST_LOSS_KEY)?
                .parse()
                .map_err(|_| parse_err(BEST_LOSS_KEY))?,
            best_epoch: get(BEST_EPOCH_KEY)?
                .parse()
                .map_err(|_| parse_err(BEST_EPOCH_KEY))?,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let optim = dir.join(get(OPTIMIZER_KEY)?);
        if !optim.exists() {
            return Err(bad(format!(
                "its optimizer state `{}` is missing",
                optim.display()
            )));
        }
        Ok((state, optim))
    }

    /// Loads optimizer state from `path` into `optim`.
    pub fn load_optimizer(
        optim: ModuleOptimizer,
        path: &Path,
    ) -> Result<ModuleOptimizer, TrainError> {
        optim.load(path).map_err(|e| TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: format!("cannot read the optimizer state: {e}"),
        })
    }

    fn remove_unreferenced_optimizers(&self) {
        let referenced: Vec<PathBuf> = [self.last(), self.best()]
            .iter()
            .filter_map(|p| Self::read_state(p).ok().map(|(_, o)| o))
            .collect();
        let Ok(entries) = std::fs::read_dir(self.dir.join("optim")) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "bpk") && !referenced.contains(&path) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
