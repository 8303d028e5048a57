//! The model traits the pipeline depends on — chat, vision, image and video (as jobs),
//! speech — and their requests and results.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

use super::{JobCtx, JobRef, JobState, MediaRef, ProviderError, Submitted};
use crate::domain::{CameraMove, Cue, ReferenceKind};

/// A chat completion request (OpenAI-compatible shape).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    /// JSON schema the answer must follow, when the backend supports structured output.
    pub json_schema: Option<serde_json::Value>,
    pub temperature: f32,
    pub seed: u64,
    /// Most tokens the answer may take (a backend's `max_tokens` setting overrides it):
    /// a CPU server asked for an unbounded answer can run for many minutes.
    pub max_tokens: u32,
}

#[derive(Debug, Clone, Default)]
pub struct ChatResponse {
    pub text: String,
    pub cost_usd: f64,
    /// The answer hit the length limit (`finish_reason: length`): its JSON is cut off.
    pub truncated: bool,
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// `provider/model`, part of every cache key.
    fn id(&self) -> String;
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError>;
    /// Price of one call (`None`: paid, price unknown).
    fn estimate_usd(&self, _req: &ChatRequest) -> Option<f64> {
        Some(0.0)
    }
}

#[async_trait]
pub trait VisionModel: Send + Sync {
    fn id(&self) -> String;
    /// Answer `prompt` about an image under the `system` prompt; with a schema, as a JSON
    /// object that follows it.
    async fn describe(&self, image: &MediaRef, system: &str, prompt: &str, json_schema: Option<serde_json::Value>) -> Result<ChatResponse, ProviderError>;
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
    /// What the model should avoid (`prompts/negative.j2`), for models that take it.
    pub negative_prompt: String,
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    /// Brand colours (`#rrggbb`) to keep the look consistent.
    pub palette: Vec<String>,
    /// Text that belongs in the picture (the product name on a product shot).
    pub title: Option<String>,
    /// Images to build on: the user's product photo, a reference image.
    pub init_images: Vec<PathBuf>,
    /// The display face for type drawn into the picture (a fontconfig pattern), for
    /// models that draw type themselves (the offline designer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typeface: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoRequest {
    pub image: PathBuf,
    pub prompt: String,
    /// What the model should avoid (`prompts/negative.j2`), for models that take it.
    pub negative_prompt: String,
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

/// A produced file and, when the API reports it, what it actually cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Produced {
    pub media: MediaRef,
    pub cost_usd: Option<f64>,
}

impl Produced {
    /// A result with no cost report (local backends, or APIs that give none).
    pub fn new(media: MediaRef) -> Produced {
        Produced { media, cost_usd: None }
    }
}

/// An image or video model. Remote backends return `Pending` from `submit` and are
/// polled with `status`; a resumed run re-attaches to a recorded job with `status`.
#[async_trait]
pub trait MediaModel<R: Send + Sync>: Send + Sync {
    /// `backend:model`, recorded on every result and part of cache keys.
    fn id(&self) -> String;
    async fn submit(&self, req: &R, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError>;
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        Err(ProviderError::NotFound(format!("{} runs locally and has no remote job {}", self.id(), job.remote_id)))
    }
    async fn cancel(&self, _job: &JobRef) -> Result<(), ProviderError> {
        Ok(())
    }
    /// The job a submission cut off by a crash created, found in the provider's list of
    /// jobs (same model, same input, made since `since_ms`), so it is re-attached instead
    /// of paid for twice. `None` when there is none, or the provider cannot list jobs.
    async fn find(&self, _req: &R, _since_ms: u64) -> Result<Option<JobRef>, ProviderError> {
        Ok(None)
    }
    /// Whether `find` can look (the provider lists its jobs).
    fn can_find(&self) -> bool {
        false
    }
    /// Bring a produced file onto this machine (remote outputs are downloaded at once:
    /// providers delete them).
    async fn fetch(&self, media: MediaRef, _ctx: &JobCtx) -> Result<MediaRef, ProviderError> {
        Ok(media)
    }
    fn poll_interval(&self) -> Duration {
        Duration::from_secs(2)
    }
    /// Price of one call in US dollars: `Some(0.0)` for free backends, `None` for a paid
    /// model whose price is not known.
    fn estimate_usd(&self, _req: &R) -> Option<f64> {
        Some(0.0)
    }
    /// The concurrency limit of the remote backend this model runs on, shared by all its
    /// models; `None` for local models.
    fn limiter(&self) -> Option<Arc<Semaphore>> {
        None
    }
    /// Whether this is a job on another machine: recorded before submission and never
    /// submitted twice automatically.
    fn is_remote(&self) -> bool {
        self.limiter().is_some()
    }
}

/// Text-to-image.
pub type ImageModel = dyn MediaModel<ImageRequest>;
/// Image-to-video.
pub type VideoModel = dyn MediaModel<VideoRequest>;

/// What a music bed must be. The mood and tempo are admint's choice from the tone (the
/// offline composer plays them; remote models get them in `prompt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MusicRequest {
    /// The brief's tone (or the template's), which sets the mood.
    pub tone: String,
    pub mood: String,
    pub bpm: f64,
    /// The bed described for a text-to-music model.
    pub prompt: String,
    /// The whole advert's length, in seconds: the bed is exactly this long.
    pub duration_s: f64,
    /// Where the end card starts: the final chord lands here.
    pub cadence_s: f64,
    pub seed: u64,
}

/// Music for the advert: a job like an image or a video, so remote beds get the same
/// crash-safe submit / re-attach protocol.
pub type MusicModel = dyn MediaModel<MusicRequest>;

/// What a transcription model is asked: a recorded line, the words it should say (a hint
/// for the recogniser) and their language.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptionRequest {
    pub audio: PathBuf,
    pub script: String,
    pub language: String,
    /// The line's length (prices are per minute of audio).
    pub duration_s: f64,
}

/// Speech to text with word timings (OpenAI-compatible `/audio/transcriptions`, which
/// local Whisper servers speak too): the captions' second source, after the voice's own.
#[async_trait]
pub trait TranscriptionModel: Send + Sync {
    fn id(&self) -> String;
    /// Every word heard, with its time.
    async fn transcribe(&self, req: &TranscriptionRequest) -> Result<Vec<Cue>, ProviderError>;
    fn estimate_usd(&self, _req: &TranscriptionRequest) -> Option<f64> {
        Some(0.0)
    }
}

/// A spoken line and, when the backend returns them, its word timings.
#[derive(Debug, Clone, PartialEq)]
pub struct Spoken {
    pub produced: Produced,
    /// Every word of the line with its time (ElevenLabs' timestamps); `None` when the
    /// backend gives none.
    pub words: Option<Vec<Cue>>,
}

/// Text-to-speech.
#[async_trait]
pub trait SpeechModel: Send + Sync {
    fn id(&self) -> String;
    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<Spoken, ProviderError>;
    /// A line this backend already made for `req` since `since_ms` (ms since the epoch),
    /// when a crash cut its request off: found in the backend's history, so it is not
    /// paid for twice. `None` when there is none, or the backend keeps no history.
    async fn recover(&self, _req: &SpeechRequest, _since_ms: u64, _ctx: &JobCtx) -> Result<Option<Spoken>, ProviderError> {
        Ok(None)
    }
    /// Whether a call is paid work on another machine (recorded before it is sent).
    fn is_remote(&self) -> bool {
        false
    }
    fn estimate_usd(&self, _req: &SpeechRequest) -> Option<f64> {
        Some(0.0)
    }
}
