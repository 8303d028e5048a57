//! Quality scoring. A `Scorer` judges a video; until a real scorer is configured, the
//! `Unscored` scorer records "not scored" — never a made-up number.

use async_trait::async_trait;
use std::path::Path;

use crate::domain::Score;

#[async_trait]
pub trait Scorer: Send + Sync {
    fn id(&self) -> String;
    async fn score(&self, video: &Path) -> Score;
}

/// Records that no scorer is configured.
#[derive(Debug, Default, Clone)]
pub struct Unscored;

#[async_trait]
impl Scorer for Unscored {
    fn id(&self) -> String {
        "none".into()
    }
    async fn score(&self, _video: &Path) -> Score {
        Score::NotScored { reason: "no quality scorer is configured (providers.scorer = \"none\")".into() }
    }
}

/// The scorer the settings ask for.
pub fn scorer_from_settings(name: &str) -> Result<std::sync::Arc<dyn Scorer>, String> {
    match name {
        "none" | "" => Ok(std::sync::Arc::new(Unscored)),
        other => Err(format!("providers.scorer = \"{other}\" is not available in this build; use \"none\"")),
    }
}
