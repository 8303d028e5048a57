//! A role's models in fallback order (`[roles.video] chain = [...]`), and the one
//! "try in order" every role uses.
//!
//! Image and video chains are walked by the pipeline itself, so a job's record names the
//! model that really has it. The roles that are plain calls (chat, speech, vision and the
//! writing roles) implement their trait for `Chain<dyn Trait>` with `try_in_order`: the
//! first model that answers wins; a cancel stops at once.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::attribution;
use super::{
    Analyst, ChatModel, ChatRequest, ChatResponse, Critic, JobCtx, MediaModel, ProviderError, SceneInput,
    SceneWriter, SpeechModel, SpeechRequest, Spoken, TranscriptionModel, TranscriptionRequest, StoryDirector, StoryInput,
};
use crate::config::FrameworkSpec;
use crate::domain::{Analysis, Brief, ConsistencyContext, Critique, ReferenceKind, Scene, Story};

pub struct Chain<M: ?Sized> {
    members: Vec<Arc<M>>,
}

impl<M: ?Sized> Clone for Chain<M> {
    fn clone(&self) -> Self {
        Chain { members: self.members.clone() }
    }
}

impl<M: ?Sized> Chain<M> {
    /// A chain of at least one model.
    pub fn new(members: Vec<Arc<M>>) -> Option<Chain<M>> {
        (!members.is_empty()).then_some(Chain { members })
    }

    pub fn one(model: Arc<M>) -> Chain<M> {
        Chain { members: vec![model] }
    }

    pub fn members(&self) -> &[Arc<M>] {
        &self.members
    }

    /// The model tried first.
    pub fn head(&self) -> &Arc<M> {
        &self.members[0]
    }

    /// Every member's id, in order (`a > b`): part of cache keys, so a new chain renders anew.
    fn joined(&self, id: impl Fn(&M) -> String) -> String {
        self.members.iter().map(|m| id(m)).collect::<Vec<_>>().join(" > ")
    }

    /// `call` on each model in turn: the first success, else the last error.
    async fn try_in_order<T, F, Fut>(&self, role: &str, id: impl Fn(&M) -> String, call: F) -> Result<T, ProviderError>
    where
        F: Fn(Arc<M>) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let mut last = None;
        for m in &self.members {
            let before = attribution::answers_so_far();
            match call(m.clone()).await {
                Ok(v) => {
                    attribution::answered(id(m), before);
                    return Ok(v);
                }
                Err(ProviderError::Cancelled) => return Err(ProviderError::Cancelled),
                Err(e) => {
                    tracing::warn!(model = %id(m), error = %e, "{role}: model failed; trying the next in the chain");
                    if self.members.len() > 1 {
                        attribution::failed(id(m));
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| ProviderError::Config(format!("roles.{role}: the chain is empty"))))
    }
}

impl<R: Send + Sync> Chain<dyn MediaModel<R>> {
    pub fn id(&self) -> String {
        self.joined(|m| m.id())
    }

    /// What the first model would charge (the one a run expects to use).
    pub fn estimate_usd(&self, req: &R) -> Option<f64> {
        self.head().estimate_usd(req)
    }

    pub fn is_remote(&self) -> bool {
        self.members.iter().any(|m| m.is_remote())
    }
}

#[async_trait]
impl ChatModel for Chain<dyn ChatModel> {
    fn id(&self) -> String {
        self.joined(|m| m.id())
    }
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        self.try_in_order("writer", |m| m.id(), |m| async move { m.complete(req).await }).await
    }
    fn estimate_usd(&self, req: &ChatRequest) -> Option<f64> {
        self.head().estimate_usd(req)
    }
}

#[async_trait]
impl TranscriptionModel for Chain<dyn TranscriptionModel> {
    fn id(&self) -> String {
        self.joined(|m| m.id())
    }
    async fn transcribe(&self, req: &TranscriptionRequest) -> Result<Vec<crate::domain::Cue>, ProviderError> {
        self.try_in_order("transcription", |m| m.id(), |m| async move { m.transcribe(req).await }).await
    }
    fn estimate_usd(&self, req: &TranscriptionRequest) -> Option<f64> {
        self.head().estimate_usd(req)
    }
}

#[async_trait]
impl SpeechModel for Chain<dyn SpeechModel> {
    fn id(&self) -> String {
        self.joined(|m| m.id())
    }
    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<Spoken, ProviderError> {
        self.try_in_order("speech", |m| m.id(), |m| async move { m.speak(req, ctx).await }).await
    }
    async fn recover(&self, req: &SpeechRequest, since_ms: u64, ctx: &JobCtx) -> Result<Option<Spoken>, ProviderError> {
        for m in self.members() {
            if let Some(s) = m.recover(req, since_ms, ctx).await? {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }
    fn is_remote(&self) -> bool {
        self.members().iter().any(|m| m.is_remote())
    }
    fn estimate_usd(&self, req: &SpeechRequest) -> Option<f64> {
        self.head().estimate_usd(req)
    }
}


#[async_trait]
impl Analyst for Chain<dyn Analyst> {
    fn id(&self) -> String {
        self.joined(|m| m.id())
    }
    async fn analyse(&self, image: &Path, kind: ReferenceKind, brief: &Brief) -> Result<Analysis, ProviderError> {
        self.try_in_order("vision", |m| m.id(), |m| async move { m.analyse(image, kind, brief).await }).await
    }
}

#[async_trait]
impl StoryDirector for Chain<dyn StoryDirector> {
    fn id(&self) -> String {
        self.joined(|m| m.id())
    }
    async fn draft(&self, input: &StoryInput<'_>) -> Result<Story, ProviderError> {
        self.try_in_order("writer", |m| m.id(), |m| async move { m.draft(input).await }).await
    }
}

#[async_trait]
impl Critic for Chain<dyn Critic> {
    fn id(&self) -> String {
        self.joined(|m| m.id())
    }
    async fn story(&self, brief: &Brief, framework: &FrameworkSpec, story: &Story) -> Result<Critique, ProviderError> {
        self.try_in_order("writer", |m| m.id(), |m| async move { m.story(brief, framework, story).await }).await
    }
    async fn scenes(&self, brief: &Brief, scenes_s: f64, scenes: &[Scene]) -> Result<Critique, ProviderError> {
        self.try_in_order("writer", |m| m.id(), |m| async move { m.scenes(brief, scenes_s, scenes).await }).await
    }
}

#[async_trait]
impl SceneWriter for Chain<dyn SceneWriter> {
    fn id(&self) -> String {
        self.joined(|m| m.id())
    }
    async fn write(&self, input: &SceneInput<'_>) -> Result<Vec<Scene>, ProviderError> {
        self.try_in_order("writer", |m| m.id(), |m| async move { m.write(input).await }).await
    }
    async fn cohere(&self, brief: &Brief, context: &ConsistencyContext, scenes: &[Scene]) -> Result<(Vec<Scene>, Vec<String>), ProviderError> {
        self.try_in_order("writer", |m| m.id(), |m| async move { m.cohere(brief, context, scenes).await }).await
    }
    async fn shorten_voiceover(&self, brief: &Brief, scene: &Scene, max_words: usize) -> Result<String, ProviderError> {
        self.try_in_order("writer", |m| m.id(), |m| async move { m.shorten_voiceover(brief, scene, max_words).await }).await
    }
}
