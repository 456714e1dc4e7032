//! The training loop (`fdfat --task train`): stage 1 trains landmarks; stage 2
//! (`face_cls: true`, `freeze_landmark: true`, `checkpoint: <stage-1 weights>`) trains only the
//! face-classification head on the frozen backbone. Each epoch trains, validates, logs and
//! checkpoints; `resume: true` continues a killed run from `weights/last.bpk`.

use crate::baseline;
use crate::dump;
use crate::ema::Ema;
use crate::error::TrainError;
use crate::figures::EpochFigures;
use crate::inputs::to_tensors;
use crate::log::{EpochRow, TrainLog};
use crate::objective::Objective;
use crate::optimizer;
use crate::pose_target::PoseTargets;
use crate::replicas::Replicas;
use crate::schedule::Schedule;
use crate::state::{TrainState, Weights};
use crate::stopping::Judge;
use burn::module::Module;
use burn::tensor::Device;
use fdfat_config::{Config, DataConfig, DeviceSpec, LandmarkScheme, Split};
use fdfat_data::{Batch, Dataset, Loader, LoaderMode};
use fdfat_models::{LandmarkModel, load_checkpoint};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The outcome of a training run.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Completed epochs.
    pub epochs: usize,
    /// 1-based best epoch by `best_metric`.
    pub best_epoch: usize,
    /// Its validation score (loss or NME, as `best_metric` says).
    pub best_score: f64,
    /// Validation NME (crop frame, inter-ocular) of the last epoch.
    pub last_val_nme: f64,
    /// Lowest validation NME of the run (its epochs in the log, resumed ones included).
    pub best_val_nme: f64,
    /// NME on the validation set of always predicting the training mean shape.
    pub baseline_nme: Option<f64>,
}

/// Everything an epoch needs besides the model.
struct Session<'a> {
    cfg: &'a Config,
    objective: Objective,
    pose_targets: Option<PoseTargets>,
    part_names: Vec<String>,
    device: Device,
    train_set: Arc<Dataset>,
    val_set: Arc<Dataset>,
    run_dir: PathBuf,
}

/// Trains as `cfg` says, in the run directory `run_dir` (created by the caller with the
/// resolved `config.yaml`), on the data YAML `data`.
pub fn train(cfg: &Config, data: &DataConfig, run_dir: &Path) -> Result<TrainSummary, TrainError> {
    let devices = fdfat_models::training_devices_for_config(&cfg.device)?;
    let device = devices[0].clone();
    devices.iter().for_each(|d| d.seed(cfg.seed));
    let scheme = model_scheme(cfg)?;
    let train_set = Arc::new(Dataset::open(data, Split::Train, cfg)?);
    let val_set = Arc::new(Dataset::open(data, Split::Val, cfg)?);
    println!(
        "data: {} train and {} val samples ({} format, {} scheme) from {}",
        train_set.len(),
        val_set.len(),
        data.format.default_scheme(),
        train_set.scheme().name,
        data.source.display()
    );
    let baseline_nme =
        baseline::mean_shape_nme(&train_set, &val_set, cfg.lmk_num, scheme.eye_corners);
    if let Some(nme) = baseline_nme {
        println!("mean-shape baseline: val NME {nme:.4} (predicting the training mean shape)");
    }
    let loader = fdfat_data::loader_threads(cfg.workers);
    if loader < cfg.workers {
        println!(
            "threads: the loader takes {loader} of `workers: {}`, the kernels every core ({} \
             cores: one budget for both)",
            cfg.workers,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }

    // Initialised on the CPU with the run's seed and then moved, so that every backend starts
    // a run from the same weights and its curve does not depend on which device trained it.
    let (cpu, _) = fdfat_models::device_for(&DeviceSpec::Cpu);
    cpu.seed(cfg.seed);
    let mut model = LandmarkModel::new(cfg, &cpu.autodiff())?.fork(&device.clone().autodiff());
    let weights = Weights::create(run_dir)?;
    let mut optim_state = None;
    let mut state = TrainState::fresh();
    let mut log = TrainLog::default();
    if cfg.resume {
        let last = weights.last();
        let (saved, optim_path) = Weights::read_state(&last)?;
        let (loaded, _) = load_checkpoint(model, &last)?;
        model = loaded;
        optim_state = Some(optim_path);
        log = TrainLog::read(&run_dir.join("log.csv"), saved.epoch).unwrap_or_default();
        println!(
            "resuming {} after epoch {}/{}",
            run_dir.display(),
            saved.epoch,
            cfg.epoch
        );
        state = saved;
    } else if let Some(checkpoint) = &cfg.checkpoint {
        let (loaded, report) = load_checkpoint(model, checkpoint)?;
        println!("{report}");
        model = loaded;
    }
    println!(
        "model: {} ({}), {} trainable parameters{}",
        cfg.model,
        cfg.activation,
        model.num_trainable_params(),
        if model.is_landmark_frozen() {
            ", landmark part frozen"
        } else {
            ""
        }
    );
    let mut replicas = Replicas::new(model, &devices, || {
        let optim = optimizer::build(cfg.optimizer);
        match &optim_state {
            Some(path) => Weights::load_optimizer(optim, path),
            None => Ok(optim),
        }
    })?;
    if replicas.len() > 1 {
        println!(
            "data-parallel over {} devices ({}): each takes 1/{} of every batch of {}",
            replicas.len(),
            cfg.device,
            replicas.len(),
            cfg.batch_size
        );
    }

    let mut ema = cfg.ema.then(|| {
        let live = replicas.model();
        if cfg.resume {
            weights.load_ema(live, state.epoch, cfg.ema_decay)
        } else {
            Ema::new(live, cfg.ema_decay, 0)
        }
    });
    let model = replicas.model();
    let objective = Objective::new(cfg, &scheme, model.face_cls_index(), model.pose_range());
    let pose_targets = match model.pose_range() {
        Some(_) => Some(
            PoseTargets::new(&scheme).ok_or_else(|| TrainError::Checkpoint {
                path: PathBuf::from(&scheme.name),
                message: "aux_pose needs a landmark scheme that maps onto ibug68".into(),
            })?,
        ),
        None => None,
    };
    let session = Session {
        cfg,
        part_names: objective.part_names().map(String::from).collect(),
        objective,
        pose_targets,
        device,
        train_set,
        val_set,
        run_dir: run_dir.to_path_buf(),
    };
    let schedule = Schedule::from_config(cfg);
    let judge = Judge::from_config(cfg);
    let config_yaml = fdfat_config::to_yaml(cfg);
    let started = Instant::now();
    let mut last_val_nme = f64::NAN;
    for epoch in state.epoch..cfg.epoch {
        let lr = schedule.lr_at(epoch);
        let train_figures =
            session.train_epoch(&mut replicas, ema.as_mut(), epoch, lr, &weights)?;
        // the weight average, when kept, is what is validated and saved as best
        let evaluated = ema.as_ref().map_or_else(|| replicas.model(), Ema::model);
        let val_figures = session.validate(&evaluated.valid(), epoch)?;
        state.epoch = epoch + 1;
        let score = judge.score(val_figures.total(), val_figures.nme());
        let improved = score < state.best_score;
        if improved {
            state.best_score = score;
            state.best_epoch = epoch + 1;
        }
        last_val_nme = val_figures.nme();
        let mut values = train_figures.named("train", &session.part_names);
        values.extend(val_figures.named("val", &session.part_names));
        values.insert("lr".into(), lr);
        if let Some(baseline) = baseline_nme {
            // drawn as a line in the NME panel of log.png
            values.insert("baseline_nme".into(), baseline);
        }
        log.push(EpochRow {
            epoch: epoch + 1,
            values,
        });
        println!(
            "epoch {}/{}: train loss {:.6} nme {:.4} ({}) | val loss {:.6} nme {:.4}{}{}",
            epoch + 1,
            cfg.epoch,
            train_figures.total(),
            train_figures.nme(),
            train_figures.throughput(),
            val_figures.total(),
            val_figures.nme(),
            val_figures
                .face_accuracy()
                .map(|a| format!(" face acc {a:.4}"))
                .unwrap_or_default(),
            if improved { " (best)" } else { "" }
        );
        if cfg.save {
            // checkpoints first: a log row promises its epoch is saved
            let (model, optim) = (replicas.model(), replicas.optimizer());
            if let Some(ema) = &ema {
                weights.save_ema(ema, state.epoch)?;
            }
            weights.save("last", model, optim, &state, &config_yaml)?;
            if improved {
                let evaluated = ema.as_ref().map_or(model, Ema::model);
                weights.save("best", evaluated, optim, &state, &config_yaml)?;
            }
            let csv = run_dir.join("log.csv");
            log.write_csv(&csv)
                .map_err(|e| TrainError::io("write", &csv, e))?;
            let png = run_dir.join("log.png");
            log.plot(&png)
                .map_err(|message| TrainError::Plot { path: png, message })?;
        }
        if let Some(reason) = judge.stop(&state, started.elapsed()) {
            println!("stopping after epoch {}: {reason}", epoch + 1);
            break;
        }
    }
    let best_val_nme = log
        .rows
        .iter()
        .filter_map(|r| r.values.get("val_nme").copied())
        .fold(f64::NAN, f64::min);
    println!(
        "done in {:.1}s: {} epochs; best epoch {} by val {} ({:.6})",
        started.elapsed().as_secs_f64(),
        state.epoch,
        state.best_epoch,
        judge.metric,
        state.best_score,
    );
    let against_baseline = baseline_nme.map_or_else(String::new, |b| {
        format!(
            "; mean-shape baseline {b:.4} (best is {:.0}% of it)",
            100.0 * best_val_nme / b
        )
    });
    println!("  val NME: best {best_val_nme:.4}, last {last_val_nme:.4}{against_baseline}");
    if cfg.save {
        println!(
            "  weights: {} (best.bpk, last.bpk); curves: {} and log.csv",
            weights.dir().display(),
            run_dir.join("log.png").display()
        );
    }
    Ok(TrainSummary {
        run_dir: run_dir.to_path_buf(),
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        best_score: state.best_score,
        last_val_nme,
        best_val_nme,
        baseline_nme,
    })
}

/// The built-in scheme of the model's `lmk_num` points.
fn model_scheme(cfg: &Config) -> Result<LandmarkScheme, TrainError> {
    LandmarkScheme::for_points(cfg.lmk_num).ok_or_else(|| {
        fdfat_config::ConfigError::InvalidValue {
            key: "lmk_num".into(),
            expected: "the point count of a built-in landmark scheme (68, 70 or 98)".into(),
            found: cfg.lmk_num.to_string(),
            origin: fdfat_config::Origin::Default,
        }
        .into()
    })
}

fn progress(len: usize, prefix: String) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}

impl Session<'_> {
    fn train_epoch(
        &self,
        replicas: &mut Replicas,
        mut ema: Option<&mut Ema>,
        epoch: usize,
        lr: f64,
        weights: &Weights,
    ) -> Result<EpochFigures, TrainError> {
        let cfg = self.cfg;
        let mode = LoaderMode::Train {
            epoch,
            seed: cfg.seed,
        };
        let loader = Loader::new(
            self.train_set.clone(),
            cfg,
            mode,
            cfg.batch_size,
            cfg.workers,
        )?;
        let bar = progress(
            loader.num_batches(),
            format!("train {}/{}", epoch + 1, cfg.epoch),
        );
        let forward = |model: &LandmarkModel, shard: &Batch, device: &Device| {
            let tensors = to_tensors(
                shard,
                &self.objective.coord_weights,
                cfg.pre_norm,
                self.pose_targets.as_ref(),
                device,
            );
            let output = model.forward(tensors.images.clone());
            self.objective.evaluate(output, &tensors)
        };
        let mut figures = EpochFigures::default();
        let started = Instant::now();
        let mut loader = loader.enumerate();
        loop {
            let waiting = Instant::now();
            let Some((index, batch)) = loader.next() else {
                break;
            };
            let batch = batch?;
            figures.add_wait(waiting.elapsed());
            let computing = Instant::now();
            if epoch == 0 && index < cfg.dump_batch && cfg.save {
                let path = self.run_dir.join(format!("train_batch{index}.png"));
                dump::save(&batch, cfg.pre_norm, &path).map_err(|e| TrainError::Plot {
                    path,
                    message: e.to_string(),
                })?;
            }
            for shard in replicas.step(&batch, lr, &forward) {
                if !shard.total.is_finite() {
                    bar.abandon();
                    return Err(TrainError::NonFiniteLoss {
                        value: shard.total as f32,
                        epoch: epoch + 1,
                        batch: index + 1,
                        weights: weights.dir().to_path_buf(),
                    });
                }
                figures.add(&shard);
            }
            if let Some(ema) = ema.as_deref_mut() {
                ema.update(replicas.model());
            }
            figures.add_compute(computing.elapsed());
            let rate = figures.samples() as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "loss {:.5} nme {:.4} {rate:.0} img/s",
                figures.total(),
                figures.nme()
            ));
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(figures)
    }

    fn validate(&self, model: &LandmarkModel, epoch: usize) -> Result<EpochFigures, TrainError> {
        let cfg = self.cfg;
        let loader = Loader::new(
            self.val_set.clone(),
            cfg,
            LoaderMode::Eval,
            cfg.batch_size,
            cfg.workers,
        )?;
        let bar = progress(
            loader.num_batches(),
            format!("val   {}/{}", epoch + 1, cfg.epoch),
        );
        let mut figures = EpochFigures::default();
        for batch in loader {
            let batch = batch?;
            let tensors = to_tensors(
                &batch,
                &self.objective.coord_weights,
                cfg.pre_norm,
                self.pose_targets.as_ref(),
                &self.device,
            );
            let output = model.forward(tensors.images.clone());
            let (_, batch_figures) = self.objective.evaluate(output, &tensors);
            figures.add(&batch_figures);
            bar.set_message(format!(
                "loss {:.5} nme {:.4}",
                figures.total(),
                figures.nme()
            ));
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(figures)
    }
}
