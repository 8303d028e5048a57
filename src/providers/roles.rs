//! The writing roles of the pipeline. Offline they are rule- and template-based; with a
//! chat model configured they are prompts (from `prompts/`) sent to that model.

use async_trait::async_trait;
use std::path::Path;

use super::ProviderError;
use crate::config::{AdTemplate, FrameworkSpec};
use crate::domain::{Analysis, Brief, ConsistencyContext, Critique, ReferenceKind, Scene, Story};

/// Everything the director needs for one draft.
#[derive(Debug, Clone)]
pub struct StoryInput<'a> {
    pub brief: &'a Brief,
    pub framework: &'a FrameworkSpec,
    pub template: &'a AdTemplate,
    pub previous: Option<&'a Story>,
    pub critique: Option<&'a Critique>,
    pub feedback: Option<&'a str>,
    /// Revision number the new story gets.
    pub revision: u32,
    /// Bumped by "regenerate" so a fresh draft differs.
    pub variation: u64,
}

#[derive(Debug, Clone)]
pub struct SceneInput<'a> {
    pub brief: &'a Brief,
    pub framework: &'a FrameworkSpec,
    pub template: &'a AdTemplate,
    pub story: &'a Story,
    /// The seconds the scenes fill: the brief's length less its title and end cards.
    pub scenes_s: f64,
    pub context: &'a ConsistencyContext,
    pub previous: Option<&'a [Scene]>,
    pub critique: Option<&'a Critique>,
    /// (scene id the feedback is about, feedback text).
    pub feedback: Option<(Option<u32>, &'a str)>,
    pub variation: u64,
    /// First id to give to new scenes.
    pub first_id: u32,
}

#[async_trait]
pub trait StoryDirector: Send + Sync {
    fn id(&self) -> String;
    async fn draft(&self, input: &StoryInput<'_>) -> Result<Story, ProviderError>;
}

#[async_trait]
pub trait Critic: Send + Sync {
    fn id(&self) -> String;
    async fn story(&self, brief: &Brief, framework: &FrameworkSpec, story: &Story) -> Result<Critique, ProviderError>;
    /// Scenes meant to fill `scenes_s` seconds (the brief's length less its cards).
    async fn scenes(&self, brief: &Brief, scenes_s: f64, scenes: &[Scene]) -> Result<Critique, ProviderError>;
}

#[async_trait]
pub trait SceneWriter: Send + Sync {
    fn id(&self) -> String;
    async fn write(&self, input: &SceneInput<'_>) -> Result<Vec<Scene>, ProviderError>;
    /// Make scenes consistent with each other and the context: (scenes, notes on what changed).
    async fn cohere(&self, brief: &Brief, context: &ConsistencyContext, scenes: &[Scene]) -> Result<(Vec<Scene>, Vec<String>), ProviderError>;
    /// A scene's voiceover line rewritten in at most `max_words` words (its recording
    /// overran the scene). The default keeps the first whole clauses that fit.
    async fn shorten_voiceover(&self, _brief: &Brief, scene: &Scene, max_words: usize) -> Result<String, ProviderError> {
        Ok(crate::domain::shorten_line(&scene.voiceover, max_words))
    }
}

#[async_trait]
pub trait Analyst: Send + Sync {
    fn id(&self) -> String;
    async fn analyse(&self, image: &Path, kind: ReferenceKind, brief: &Brief) -> Result<Analysis, ProviderError>;
}

/// What a chat model read in a free-text answer to a gate (prompt `intent`): the
/// intent (`approve`, `regenerate`, `feedback`, `retry_clip`, `edit_scene`) and its parts.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct IntentReading {
    pub intent: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub scene: Option<u32>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// Classifies free text the rule-based intent parser can only call "feedback".
#[async_trait]
pub trait IntentReader: Send + Sync {
    /// `stage` is the gate (`story`, `scenes`, `failed clips`).
    async fn read(&self, stage: &str, scene_count: usize, text: &str) -> Result<IntentReading, ProviderError>;
}
