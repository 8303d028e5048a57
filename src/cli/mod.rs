//! The headless face of admint: clap commands over the same pipeline the TUI drives.

mod args;
mod batch;
mod doctor;
mod generate;
mod interactive;
mod report;
mod sessions;
mod score;
mod show;
mod store;

pub use args::{Cli, Commands, OutputFormat};

use crate::app_env::{exit_code, AppEnv, EnvError, EXIT_FAILED, EXIT_USAGE};
use crate::pipeline::PipelineError;

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

impl From<PipelineError> for CliError {
    fn from(e: PipelineError) -> Self {
        CliError { code: exit_code(&e), message: e.to_string() }
    }
}

impl From<EnvError> for CliError {
    fn from(e: EnvError) -> Self {
        CliError::usage(e.0)
    }
}

/// Run one headless command.
pub async fn run(command: Commands) -> Result<(), CliError> {
    match command {
        Commands::Generate(a) => generate::generate(*a).await,
        Commands::Resume(a) => generate::resume(a).await,
        Commands::Sessions(a) => sessions::sessions(a).await,
        Commands::Doctor(a) => doctor::doctor(a).await,
        Commands::Show(a) => show::show(a).await,
        Commands::Score(a) => score::score(a).await,
        Commands::Store(a) => store::store(a),
        Commands::Batch(a) => batch::batch(a).await,
    }
}
