use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

use super::{JobCtx, JobRef, JobState, MediaRef, ProviderError, Submitted};
use crate::domain::{CameraMove, ReferenceKind};

/// A chat completion request (OpenAI-compatible shape).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    /// JSON schema the answer must follow, when the backend supports structured output.
    pub json_schema: Option<serde_json::Value>,
    pub temperature: f32,
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct ChatResponse {
    pub text: String,
    pub cost_usd: f64,
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// `provider/model`, part of every cache key.
    fn id(&self) -> String;
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError>;
}

#[async_trait]
pub trait VisionModel: Send + Sync {
    fn id(&self) -> String;
    /// Answer `prompt` about an image (JSON text when asked for JSON).
    async fn describe(&self, image: &MediaRef, prompt: &str) -> Result<ChatResponse, ProviderError>;
}

/// What an image is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ImagePurpose {
    Reference { reference: ReferenceKind },
    Keyframe { scene_id: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRequest {
    pub purpose: ImagePurpose,
    pub prompt: String,
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    /// Brand colours (`#rrggbb`) to keep the look consistent.
    pub palette: Vec<String>,
    /// Text that belongs in the picture (the product name on a product shot).
    pub title: Option<String>,
    /// Images to build on: the user's product photo, a reference image.
    pub init_images: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoRequest {
    pub image: PathBuf,
    pub prompt: String,
    pub camera: CameraMove,
    pub motion_intensity: f32,
    pub duration_s: f64,
    pub fps: u32,
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    /// 0 for the first render; later takes ask for a different result.
    pub take: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechRequest {
    pub text: String,
    pub voice: String,
}

/// Text-to-image. Remote backends return `Pending` and are polled with `status`.
#[async_trait]
pub trait ImageModel: Send + Sync {
    fn id(&self) -> String;
    async fn submit(&self, req: &ImageRequest, ctx: &JobCtx) -> Result<Submitted<MediaRef>, ProviderError>;
    async fn status(&self, job: &JobRef) -> Result<JobState<MediaRef>, ProviderError>;
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError>;
    fn poll_interval(&self) -> Duration {
        Duration::from_secs(2)
    }
    /// Price of one call in US dollars (0 for local backends).
    fn estimate_usd(&self, _req: &ImageRequest) -> f64 {
        0.0
    }
    /// Whether results cost money and must be recorded before submission.
    fn is_remote(&self) -> bool {
        false
    }
}

/// Image-to-video.
#[async_trait]
pub trait VideoModel: Send + Sync {
    fn id(&self) -> String;
    async fn submit(&self, req: &VideoRequest, ctx: &JobCtx) -> Result<Submitted<MediaRef>, ProviderError>;
    async fn status(&self, job: &JobRef) -> Result<JobState<MediaRef>, ProviderError>;
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError>;
    fn poll_interval(&self) -> Duration {
        Duration::from_secs(5)
    }
    fn estimate_usd(&self, _req: &VideoRequest) -> f64 {
        0.0
    }
    fn is_remote(&self) -> bool {
        false
    }
}

/// Text-to-speech.
#[async_trait]
pub trait SpeechModel: Send + Sync {
    fn id(&self) -> String;
    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<MediaRef, ProviderError>;
}
