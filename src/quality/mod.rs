//! Quality scoring: VBench's dimensions computed natively on the CPU (exact where VBench
//! is model-free, classical approximations or labelled heuristics where it uses
//! networks), QC gates for publishing, and an adapter to a real VBench install.

mod aggregate;
mod consistency;
mod dynamic;
mod flow;
mod gates;
mod imaging;
mod loudness;
mod native;
mod reduced;
mod smoothness;
mod split;
mod vbench;

pub use aggregate::{normalisation, quality, DIMENSIONS};
pub use gates::safe_margins;
pub use loudness::{Loudness, LoudnessMeter};
pub use native::{measure_loudness, score_native, GateContext, NativeOptions, NATIVE_VERSION};
pub use vbench::{parse_results, VbenchScorer};

use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

use crate::config::{GateSettings, ScoringSettings};
use crate::domain::Score;
use crate::media::{Ffmpeg, MediaError};

#[derive(Debug, Error)]
pub enum QualityError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("decoding failed: {0}")]
    Decode(String),
    #[error("VBench: {0}")]
    Vbench(String),
    #[error("unknown quality dimension \"{0}\" (known: {known})", known = DIMENSIONS.join(", "))]
    UnknownDimension(String),
}

/// One video to score, with what the gates need to know about it.
#[derive(Debug, Clone)]
pub struct ScoreRequest {
    pub video: PathBuf,
    pub gates: GateContext,
}

impl ScoreRequest {
    pub fn new(video: &Path) -> ScoreRequest {
        ScoreRequest { video: video.to_path_buf(), gates: GateContext::default() }
    }
}

#[async_trait]
pub trait Scorer: Send + Sync {
    fn id(&self) -> String;
    /// Never fails: a scorer that cannot score says `Unavailable`, never a number.
    async fn score(&self, req: &ScoreRequest) -> Score;
}

/// Records that scoring is turned off.
#[derive(Debug, Default, Clone)]
pub struct Unscored;

#[async_trait]
impl Scorer for Unscored {
    fn id(&self) -> String {
        "none".into()
    }
    async fn score(&self, _req: &ScoreRequest) -> Score {
        Score::NotScored { reason: "scoring is off (scoring.backend = \"none\")".into() }
    }
}

/// VBench-style scores computed in-process.
#[derive(Debug, Clone)]
pub struct NativeScorer {
    pub ffmpeg: Ffmpeg,
    pub options: NativeOptions,
    pub gates: GateSettings,
}

#[async_trait]
impl Scorer for NativeScorer {
    fn id(&self) -> String {
        "native".into()
    }
    async fn score(&self, req: &ScoreRequest) -> Score {
        let me = self.clone();
        let req = req.clone();
        let r = tokio::task::spawn_blocking(move || score_native(&me.ffmpeg, &req.video, &me.options, &req.gates, &me.gates)).await;
        match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => Score::Unavailable { reason: e.to_string() },
            Err(e) => Score::Unavailable { reason: format!("scorer crashed: {e}") },
        }
    }
}

/// Check dimension names; empty means all seven.
pub fn dimensions(names: &[String]) -> Result<Vec<String>, QualityError> {
    if names.is_empty() {
        return Ok(DIMENSIONS.iter().map(|d| d.to_string()).collect());
    }
    names
        .iter()
        .map(|n| {
            let n = n.trim().replace([' ', '-'], "_");
            if DIMENSIONS.contains(&n.as_str()) {
                Ok(n)
            } else {
                Err(QualityError::UnknownDimension(n))
            }
        })
        .collect()
}

/// The scorer the settings ask for.
pub fn scorer_from_settings(s: &ScoringSettings, ffmpeg: &Ffmpeg) -> Result<Arc<dyn Scorer>, String> {
    let dims = dimensions(&s.dimensions).map_err(|e| format!("scoring.dimensions: {e}"))?;
    let native = NativeScorer { ffmpeg: ffmpeg.clone(), options: NativeOptions { dimensions: dims.clone(), gates: true }, gates: s.gates.clone() };
    match s.backend.as_str() {
        "none" | "" => Ok(Arc::new(Unscored)),
        "native" => Ok(Arc::new(native)),
        "vbench" => Ok(Arc::new(VbenchScorer::new(s, dims, native))),
        other => Err(format!("scoring.backend = \"{other}\" is not known; use \"native\", \"vbench\" or \"none\"")),
    }
}
