//! The offline writer and critic behind the LLM roles when the writer chain ends in
//! `"offline"`.

use async_trait::async_trait;

use super::LlmRoles;
use crate::config::FrameworkSpec;
use crate::domain::{Brief, ConsistencyContext, Critique, Scene, Story};
use crate::providers::offline::{RubricCritic, TemplateWriter};
use crate::providers::{Critic, ProviderError, SceneInput, SceneWriter, StoryDirector, StoryInput};

/// The LLM roles, with the offline writer and critic behind them when the chain says so.
pub struct WriterWithFallback {
    pub llm: LlmRoles,
    pub offline: bool,
}

fn fall<T>(r: Result<T, ProviderError>, offline: bool, what: &str) -> Result<Result<T, ProviderError>, ProviderError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(ProviderError::Cancelled) => Err(ProviderError::Cancelled),
        Err(e) if offline => {
            tracing::warn!(error = %e, "{what}: the chat models failed; the offline writer takes over");
            Ok(Err(e))
        }
        Err(e) => Err(e),
    }
}

#[async_trait]
impl StoryDirector for WriterWithFallback {
    fn id(&self) -> String {
        StoryDirector::id(&self.llm) + if self.offline { " > offline" } else { "" }
    }
    async fn draft(&self, input: &StoryInput<'_>) -> Result<Story, ProviderError> {
        match fall(self.llm.draft(input).await, self.offline, "story")? {
            Ok(s) => Ok(s),
            Err(_) => TemplateWriter.draft(input).await,
        }
    }
}

#[async_trait]
impl Critic for WriterWithFallback {
    fn id(&self) -> String {
        Critic::id(&self.llm) + if self.offline { " > offline" } else { "" }
    }
    async fn story(&self, brief: &Brief, framework: &FrameworkSpec, story: &Story) -> Result<Critique, ProviderError> {
        match fall(self.llm.story(brief, framework, story).await, self.offline, "story critique")? {
            Ok(c) => Ok(c),
            Err(_) => RubricCritic.story(brief, framework, story).await,
        }
    }
    async fn scenes(&self, brief: &Brief, scenes: &[Scene]) -> Result<Critique, ProviderError> {
        match fall(self.llm.scenes(brief, scenes).await, self.offline, "scene critique")? {
            Ok(c) => Ok(c),
            Err(_) => RubricCritic.scenes(brief, scenes).await,
        }
    }
}

#[async_trait]
impl SceneWriter for WriterWithFallback {
    fn id(&self) -> String {
        SceneWriter::id(&self.llm) + if self.offline { " > offline" } else { "" }
    }
    async fn write(&self, input: &SceneInput<'_>) -> Result<Vec<Scene>, ProviderError> {
        match fall(self.llm.write(input).await, self.offline, "scenes")? {
            Ok(s) => Ok(s),
            Err(_) => TemplateWriter.write(input).await,
        }
    }
    async fn cohere(&self, brief: &Brief, context: &ConsistencyContext, scenes: &[Scene]) -> Result<(Vec<Scene>, Vec<String>), ProviderError> {
        match fall(self.llm.cohere(brief, context, scenes).await, self.offline, "cohesion")? {
            Ok(s) => Ok(s),
            Err(_) => TemplateWriter.cohere(brief, context, scenes).await,
        }
    }
}
