//! The headless face of admint: clap commands over the same pipeline the TUI drives.

mod args;
mod doctor;
mod env;
mod generate;
mod interactive;
mod report;
mod sessions;
mod score;
mod show;

pub use args::{Cli, Commands, OutputFormat};
pub use env::AppEnv;

use std::process::ExitCode;

use crate::pipeline::PipelineError;

/// Exit codes: 0 done, 1 pipeline failed (or stopped before the end), 2 bad input/usage.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// A CLI failure with its exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn usage(m: impl Into<String>) -> CliError {
        CliError { code: EXIT_USAGE, message: m.into() }
    }
    pub fn failed(m: impl Into<String>) -> CliError {
        CliError { code: EXIT_FAILED, message: m.into() }
    }
}

/// Bad input and usage errors exit 2, everything else 1.
pub fn exit_code(e: &PipelineError) -> u8 {
    match e {
        PipelineError::BadInput(_) | PipelineError::Config(_) | PipelineError::Budget(_) => EXIT_USAGE,
        PipelineError::Store(crate::store::StoreError::Locked { .. } | crate::store::StoreError::NoSuchSession(_)) => EXIT_USAGE,
        PipelineError::Command(_) => EXIT_USAGE,
        _ => EXIT_FAILED,
    }
}

impl From<PipelineError> for CliError {
    fn from(e: PipelineError) -> Self {
        CliError { code: exit_code(&e), message: e.to_string() }
    }
}

pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        None => match AppEnv::open() {
            Ok(env) => crate::tui::run(env, crate::tui::TuiOptions { no_images: cli.no_images }).await,
            Err(e) => Err(e),
        },
        Some(Commands::Generate(a)) => generate::generate(*a).await,
        Some(Commands::Resume(a)) => generate::resume(a).await,
        Some(Commands::Sessions(a)) => sessions::sessions(a).await,
        Some(Commands::Doctor(a)) => doctor::doctor(a).await,
        Some(Commands::Show(a)) => show::show(a).await,
        Some(Commands::Score(a)) => score::score(a).await,
    };
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("admint: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
