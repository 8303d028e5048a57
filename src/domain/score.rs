//! Quality scores: VBench-style dimensions, how each was obtained, and the QC gates.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::AssetId;

/// What a score is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "scene_id")]
pub enum ScoreTarget {
    Clip(u32),
    Final,
}

/// How faithfully a dimension follows VBench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// VBench's own definition, computed the same way.
    Exact,
    /// VBench's protocol with a classical model in place of its network.
    Approximation,
    /// A hand-made stand-in for a learned judgement.
    Heuristic,
    /// Computed by VBench itself (the external adapter).
    Vbench,
}

impl Method {
    pub fn label(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Approximation => "approximation",
            Method::Heuristic => "heuristic",
            Method::Vbench => "vbench",
        }
    }
}

/// One VBench dimension of one video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// On VBench's own scale: 0..1, and 0 or 1 for dynamic degree.
    pub value: f64,
    pub method: Method,
    /// Dynamic degree: the fraction of sampled frame pairs above the motion threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
}

/// The outcome of one QC gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// A cheap pre-publication check with what it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    /// `black`, `frozen`, `duration`, `loudness`, `silence`, `safe_area`.
    pub gate: String,
    pub verdict: Verdict,
    /// The measured value in the gate's unit (seconds, LUFS…), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// What was measured against what, in words.
    pub detail: String,
}

/// A quality verdict on one video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Score {
    Scored {
        /// VBench dimension name (e.g. `temporal_flickering`) → its score.
        dimensions: BTreeMap<String, DimensionScore>,
        /// VBench's normalised, weighted Quality score over the dimensions present, 0..100.
        quality: f64,
        #[serde(default)]
        gates: Vec<GateResult>,
        /// Which scorer, and which version of it, produced this.
        scorer: String,
        version: String,
    },
    /// No scorer is configured: we say so rather than invent a number.
    NotScored { reason: String },
    /// The scorer ran and failed: no number.
    #[serde(alias = "failed")]
    Unavailable {
        #[serde(alias = "error")]
        reason: String,
    },
}

impl Score {
    /// The 0..100 Quality score, when there is one.
    pub fn quality(&self) -> Option<f64> {
        match self {
            Score::Scored { quality, .. } => Some(*quality),
            _ => None,
        }
    }

    /// The worst gate verdict, when gates ran.
    pub fn worst_gate(&self) -> Option<Verdict> {
        match self {
            Score::Scored { gates, .. } => gates.iter().map(|g| g.verdict).max(),
            _ => None,
        }
    }
}

/// A score together with the exact video it was computed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    pub target: ScoreTarget,
    pub video: AssetId,
    pub score: Score,
}
