//! Actions (everything that can change the App) and Effects (work the App asks the
//! runtime to do).

use crossterm::event::KeyEvent;
use std::path::PathBuf;
use std::sync::Arc;

use crate::domain::{Command, EventEnvelope, SessionState};
use crate::pipeline::{Decision, Gate, Update};

/// A row of the sessions screen (computed off the UI thread by the pipeline).
pub type SessionRow = crate::pipeline::SessionSummary;

/// Everything that can change the App: input, pipeline news, results of effects.
/// (Pipeline events dominate; boxing them would add an allocation per message.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Mouse(crossterm::event::MouseEvent),
    Paste(String),
    Resize(u16, u16),
    /// One second passed while something runs (elapsed time, ETA).
    Tick,
    Pipeline(Update),
    GateReached { session: String, gate: Gate },
    RunFinished { session: String, result: Result<String, String> },
    SessionsLoaded(Vec<SessionRow>),
    SessionOpened { state: Box<SessionState>, events: Vec<EventEnvelope> },
    Interpreted { session: String, result: Result<Decision, String> },
    Created { session: String },
    Error(String),
    Info(String),
    /// A preview image finished decoding (the runtime holds it; this only redraws).
    PreviewReady,
    /// A look was found (the command that sets it) or not (why).
    LookResolved { session: String, result: Result<Command, String> },
    /// A chat thumbnail, as half-block text lines.
    Thumbnail { asset: crate::domain::AssetId, lines: Vec<ratatui::text::Line<'static>> },
    /// Pictures decoded small (for the mood board), drawn fitted to where they go.
    ImagesLoaded(Vec<(crate::domain::AssetId, Arc<image::RgbImage>)>),
    /// The animatic's frames, for its player.
    AnimaticLoaded(AnimaticFrames),
}

/// An animatic decoded small, `fps` frames a second, and the file to open in a player.
#[derive(Debug, Clone)]
pub struct AnimaticFrames {
    pub asset: crate::domain::AssetId,
    pub path: PathBuf,
    pub fps: f64,
    pub frames: Arc<Vec<image::RgbImage>>,
}

impl AnimaticFrames {
    /// The frame shown at `t` seconds.
    pub fn at(&self, t: f64) -> Option<&image::RgbImage> {
        let i = (t.max(0.0) * self.fps).floor() as usize;
        self.frames.get(i.min(self.frames.len().saturating_sub(1)))
    }
}

/// Work the App asks the runtime to do; results come back as Actions.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadSessions,
    OpenSession(String),
    /// Create a session from a brief typed in the prompt, then run it.
    CreateSession { text: String },
    StartRun(String),
    /// Answer the gate the running pipeline waits at.
    Decide(Decision),
    /// Interpret free text through the shared intent parser against this gate.
    Interpret { session: String, text: String, gate: Gate },
    /// Apply a command to a session that is not running; run it afterwards if asked.
    Command { session: String, cmd: Command, then_run: bool },
    DeleteSession(String),
    Export { session: String, dir: String },
    Stop,
    Suspend,
    Quit,
    SetTheme(String),
    /// Draw pictures another way (one of `IMAGE_PROTOCOLS`), and remember it.
    SetImages(String),
    /// Remember how the session screen is laid out (in the state folder).
    RememberView { fold_images: bool, chat_pct: Option<u16> },
    /// Put text on the terminal's clipboard (OSC 52: works over SSH and in tmux with
    /// `set-clipboard on`).
    Copy(String),
    /// Make a small half-block thumbnail of an image for the chat, off the UI thread.
    Thumbnail(crate::domain::AssetId),
    /// Decode pictures small for the mood board, off the UI thread.
    LoadImages(Vec<crate::domain::AssetId>),
    /// Decode the session's animatic small for its player, off the UI thread.
    LoadAnimatic { session: String, asset: crate::domain::AssetId },
    /// Make the variants of a finished advert (`variants` in its brief).
    MakeVariants(String),
    /// Find a look by name and bring its `.cube` into the store, for `:look`.
    ResolveLook { session: String, name: String },
}
