//! The orchestrator: `plan()` says what is missing, stage tasks do it, every result is
//! an event. The TUI and the headless CLI both drive this, and only this.

pub mod batch;
pub mod brief_fields;
mod brief_input;
pub mod cut;
mod decider;
mod estimate;
pub mod intent;
pub mod keys;
pub mod narrate;
mod outputs;
mod plan;
mod recorder;
mod runner;
mod sessions;
mod stages;
mod task;
mod variants;

pub use brief_input::{check_image, BriefFiles, BriefInput, LIMITS};
pub use decider::{AutoDecider, Decider, Decision, Gate};
pub use estimate::{estimate, expected_scenes, Estimate, EstimateLine};
use estimate::typical_writing_call;
pub use outputs::{manifest, storyboard, write_outputs, write_stems};
pub use plan::{plan, Blocked, Plan, PlanRules};
pub use task::Task;
pub use variants::VariantRow;
pub use recorder::{Recorder, Update};
pub use runner::{render_spec, Pipeline, RunOutcome};
pub use sessions::{Exported, SessionSummary};

use thiserror::Error;

use crate::domain::CommandError;
use crate::media::MediaError;
use crate::providers::ProviderError;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum PipelineError {
    /// The user's input is wrong: exit code 2, nothing written.
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{task}: {error}")]
    Provider { task: String, error: ProviderError },
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The config (settings, a prompt or template override) is wrong: the user's to fix.
    #[error("{0}")]
    Config(String),
    /// An invariant broke: a bug in admint, not the user's fault (exit code 1).
    #[error("internal error (please report it): {0}")]
    Internal(String),
    #[error("budget exceeded: {0}")]
    Budget(String),
    #[error("interrupted; nothing finished is lost — continue with `admint resume {0}`")]
    Cancelled(String),
    #[error("i/o: {}", crate::text::io_words(.0))]
    Io(#[from] std::io::Error),
}

impl From<crate::config::PromptError> for PipelineError {
    fn from(e: crate::config::PromptError) -> Self {
        PipelineError::Config(e.to_string())
    }
}

impl From<crate::config::ConfigError> for PipelineError {
    fn from(e: crate::config::ConfigError) -> Self {
        PipelineError::Config(e.to_string())
    }
}

impl PipelineError {
    pub fn provider(task: impl std::fmt::Display, error: ProviderError) -> PipelineError {
        PipelineError::Provider { task: task.to_string(), error }
    }
}
