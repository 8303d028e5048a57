//! Gates and deciders: where a run needs the user, and who answers (auto, stdin, TUI).

use async_trait::async_trait;

use crate::domain::{Approver, Command, SessionState};

/// A point where the pipeline needs the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Story,
    Scenes,
    /// The animatic is made (at this path): approve it, or change timing and scenes,
    /// before any clip is rendered.
    Animatic(std::path::PathBuf),
    /// Clips that failed: (scene id, error).
    FailedClips(Vec<(u32, String)>),
    /// The budget stops the run before anything more is paid for: raise it (`resume
    /// --budget`, `:budget`) and the run goes on where it stopped.
    Budget(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Approve,
    Commands(Vec<Command>),
    /// Stop here; the session waits (resumable) for a later answer.
    Pause,
}

/// Answers gates: automatically, from stdin, or from the TUI.
#[async_trait]
pub trait Decider: Send {
    fn approver(&self) -> Approver;
    async fn decide(&mut self, state: &SessionState, gate: &Gate) -> Decision;
    /// A command was refused (e.g. scene 9 of 5): tell the user.
    fn rejected(&mut self, _message: &str) {}
}

/// `--auto`: approve every gate; stop on failed clips (after the configured attempts) so
/// the user can retry them alone.
pub struct AutoDecider {
    /// Retry failed clips once more before pausing.
    pub retry_failed: bool,
}

#[async_trait]
impl Decider for AutoDecider {
    fn approver(&self) -> Approver {
        Approver::Auto
    }
    async fn decide(&mut self, _state: &SessionState, gate: &Gate) -> Decision {
        match gate {
            Gate::Story | Gate::Scenes | Gate::Animatic(_) => Decision::Approve,
            Gate::FailedClips(failed) if self.retry_failed => {
                self.retry_failed = false;
                Decision::Commands(failed.iter().map(|(id, _)| Command::RetryClip { scene_id: *id }).collect())
            }
            Gate::FailedClips(_) => Decision::Pause,
            Gate::Budget(_) => Decision::Pause,
        }
    }
}
