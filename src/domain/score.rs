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

/// A quality verdict on one video. Scores are 0..100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Score {
    Scored {
        /// Dimension name (e.g. `temporal_flickering`) → 0..100.
        dimensions: BTreeMap<String, f64>,
        aggregate: f64,
        scorer: String,
    },
    /// No scorer is configured: we say so rather than invent a number.
    NotScored { reason: String },
    /// The scorer ran and failed.
    Failed { error: String },
}

/// A score together with the exact video it was computed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    pub target: ScoreTarget,
    pub video: AssetId,
    pub score: Score,
}
