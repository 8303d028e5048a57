//! Fallback for the roles that are plain calls, not jobs (chat, speech, vision): the
//! models of a chain tried in order until one answers. (Image and video chains are walked
//! by the pipeline, which records the job of each model.)

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::offline::PixelAnalyst;
use super::{Analyst, ChatModel, ChatRequest, ChatResponse, JobCtx, Produced, ProviderError, SpeechModel, SpeechRequest};
use crate::domain::{Analysis, Brief, ReferenceKind};

/// `call` on each model in turn; the first success, else the last error. A cancel stops.
pub async fn try_in_order<M: ?Sized, T, F, Fut>(models: &[Arc<M>], role: &str, name: impl Fn(&M) -> String, call: F) -> Result<T, ProviderError>
where
    F: Fn(Arc<M>) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut last = None;
    for m in models {
        match call(m.clone()).await {
            Ok(v) => return Ok(v),
            Err(ProviderError::Cancelled) => return Err(ProviderError::Cancelled),
            Err(e) => {
                tracing::warn!(model = %name(m), error = %e, "{role}: model failed; trying the next in the chain");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| ProviderError::Config(format!("roles.{role}: the chain is empty"))))
}

/// Chat models tried in order until one answers.
pub struct ChatChain(pub Vec<Arc<dyn ChatModel>>);

#[async_trait]
impl ChatModel for ChatChain {
    fn id(&self) -> String {
        self.0.iter().map(|m| m.id()).collect::<Vec<_>>().join(" > ")
    }
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        try_in_order(&self.0, "writer", |m| m.id(), |m| async move { m.complete(req).await }).await
    }
    fn estimate_usd(&self, req: &ChatRequest) -> Option<f64> {
        self.0.first().and_then(|m| m.estimate_usd(req))
    }
}

/// Speech models tried in order.
pub struct SpeechChain(pub Vec<Arc<dyn SpeechModel>>);

#[async_trait]
impl SpeechModel for SpeechChain {
    fn id(&self) -> String {
        self.0.iter().map(|m| m.id()).collect::<Vec<_>>().join(" > ")
    }
    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<Produced, ProviderError> {
        try_in_order(&self.0, "speech", |m| m.id(), |m| async move { m.speak(req, ctx).await }).await
    }
    fn estimate_usd(&self, req: &SpeechRequest) -> Option<f64> {
        self.0.first().and_then(|m| m.estimate_usd(req))
    }
}

/// A vision analyst with the offline pixel analyst behind it.
pub struct AnalystWithFallback(pub Arc<dyn Analyst>);

#[async_trait]
impl Analyst for AnalystWithFallback {
    fn id(&self) -> String {
        format!("{} > offline", self.0.id())
    }
    async fn analyse(&self, image: &Path, kind: ReferenceKind, brief: &Brief) -> Result<Analysis, ProviderError> {
        let chain: [Arc<dyn Analyst>; 2] = [self.0.clone(), Arc::new(PixelAnalyst)];
        try_in_order(&chain, "vision", |m| m.id(), |m| async move { m.analyse(image, kind, brief).await }).await
    }
}
