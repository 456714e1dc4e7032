//! `fdfat`: the command-line entry point. Resolves the configuration, then runs `--task`.

mod cli;
mod predict;
mod tasks;
mod track;
mod val;
mod val_sequences;

use std::process::ExitCode;

/// mimalloc, freed memory kept mapped: feature maps of 100 KB-20 MB are allocated and freed
/// every layer of a training step (`fdfat_kernels::alloc`).
#[global_allocator]
static ALLOCATOR: fdfat_kernels::alloc::MiMalloc = fdfat_kernels::alloc::MiMalloc;

fn main() -> ExitCode {
    fdfat_kernels::alloc::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let invocation = match cli::parse(&args) {
        Ok(Ok(invocation)) => invocation,
        Ok(Err(config_error)) => {
            eprintln!("error: {config_error}");
            return ExitCode::from(1);
        }
        Err(clap_error) => {
            let _ = clap_error.print();
            return ExitCode::from(if clap_error.use_stderr() { 1 } else { 0 });
        }
    };
    let cfg = match fdfat_config::resolve(invocation.cfg_file.as_deref(), &invocation.flags) {
        Ok(cfg) => cfg,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    match tasks::run(&cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
