//! Dispatch of `--task` onto the library crates.

use fdfat_config::{Config, Task};

/// Why a task did not complete.
#[derive(Debug)]
pub enum TaskError {
    /// The task exists in the configuration but is not implemented yet.
    NotBuilt(Task),
    /// The task ran and failed.
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for TaskError {
    fn from(err: E) -> Self {
        TaskError::Failed(err.into())
    }
}

/// Runs the configured task.
pub fn run(cfg: &Config) -> Result<(), TaskError> {
    print_config(cfg);
    match cfg.task {
        task => Err(TaskError::NotBuilt(task)),
    }
}

/// Prints the resolved configuration, as the original does before it starts.
fn print_config(cfg: &Config) {
    println!("{}", fdfat_config::to_yaml(cfg).trim_end());
}
