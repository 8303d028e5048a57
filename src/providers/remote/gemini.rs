//! Google's Gemini API (<https://ai.google.dev/api>): images from `generateContent` with
//! image output ("Nano Banana"), and Veo video from `predictLongRunning`, whose operation
//! is polled until `done`. Content the safety filters blocked is reported as such and
//! never retried.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use super::{image_base64, Backend};
use crate::domain::Aspect;
use crate::providers::http::{check_bytes, MediaKind};
use crate::providers::pricing::Cost;
use crate::providers::{ImageRequest, JobCtx, JobRef, JobState, MediaModel, MediaRef, Produced, ProviderError, Submitted, VideoRequest};

fn inline_image(path: &std::path::Path) -> Result<Value, ProviderError> {
    let (mime, data) = image_base64(&std::fs::read(path)?, &path.display().to_string())?;
    Ok(json!({ "mimeType": mime, "data": data }))
}

/// Finish reasons that mean a safety filter withheld the answer.
const BLOCKED: [&str; 7] = ["SAFETY", "PROHIBITED_CONTENT", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"];

/// `gemini-2.5-flash-image` and its kin.
pub struct GeminiImage {
    pub backend: Arc<Backend>,
    pub model: String,
}

#[async_trait]
impl MediaModel<ImageRequest> for GeminiImage {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn submit(&self, req: &ImageRequest, _ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        self.backend.ready()?;
        let mut prompt = req.prompt.clone();
        if !req.palette.is_empty() {
            prompt.push_str(&format!(" Colour palette: {}.", req.palette.join(", ")));
        }
        let mut parts = vec![json!({ "text": prompt })];
        if let Some(p) = req.init_images.first() {
            parts.push(json!({ "inlineData": inline_image(p)? }));
        }
        let body = json!({
            "contents": [{ "role": "user", "parts": parts }],
            "generationConfig": { "responseModalities": ["TEXT", "IMAGE"], "imageConfig": { "aspectRatio": Aspect::closest(req.width, req.height).id() } }
        });
        let api = &self.backend.api;
        // A paid generation: sent once.
        let v: Value = api.json(api.request(Method::POST, &format!("v1beta/models/{}:generateContent", self.model)).json(&body)).await?;
        if let Some(reason) = v.pointer("/promptFeedback/blockReason").and_then(Value::as_str) {
            return Err(ProviderError::ContentFiltered(format!("{}: the prompt was blocked ({reason})", self.model)));
        }
        let cand = v.pointer("/candidates/0").ok_or_else(|| ProviderError::Protocol(format!("{}: the answer has no candidates", self.model)))?;
        let parts = cand.pointer("/content/parts").and_then(Value::as_array).cloned().unwrap_or_default();
        let image = parts.iter().find_map(|p| p.get("inlineData").or_else(|| p.get("inline_data")));
        let Some(image) = image else {
            let reason = cand["finishReason"].as_str().unwrap_or("");
            if BLOCKED.contains(&reason) {
                return Err(ProviderError::ContentFiltered(format!("{}: no image, finish reason {reason}", self.model)));
            }
            let text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" ");
            return Err(ProviderError::Protocol(format!("{}: the answer has no image (finish reason {reason}): {}", self.model, text.chars().take(200).collect::<String>())));
        };
        let data = base64::engine::general_purpose::STANDARD
            .decode(image["data"].as_str().unwrap_or(""))
            .map_err(|e| ProviderError::Protocol(format!("{}: bad base64 image: {e}", self.model)))?;
        let ext = check_bytes(&data, MediaKind::Image, &self.backend.name)?.to_string();
        Ok(Submitted::Done(Produced::new(MediaRef::Bytes { data, ext })))
    }
    fn estimate_usd(&self, _req: &ImageRequest) -> Option<f64> {
        self.backend.estimate(&self.model, |p| p.images(1))
    }
    fn limiter(&self) -> Option<Arc<Semaphore>> {
        Some(self.backend.limiter.clone())
    }
}

/// Veo (`veo-3.0-generate-001`, `veo-3.0-fast-generate-001`…), a long-running operation.
pub struct Veo {
    pub backend: Arc<Backend>,
    pub model: String,
}

impl Veo {
    /// Veo makes 4, 6 or 8 s clips: the shortest that covers the scene (compose trims).
    fn seconds(d: f64) -> u32 {
        [4, 6, 8].into_iter().find(|s| *s as f64 >= d - 1e-6).unwrap_or(8)
    }
}

#[async_trait]
impl MediaModel<VideoRequest> for Veo {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn submit(&self, req: &VideoRequest, _ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        self.backend.ready()?;
        let img = inline_image(&req.image)?;
        let aspect = if req.height > req.width { "9:16" } else { "16:9" };
        let body = json!({
            "instances": [{ "prompt": req.prompt, "image": { "bytesBase64Encoded": img["data"], "mimeType": img["mimeType"] } }],
            "parameters": { "aspectRatio": aspect, "durationSeconds": Veo::seconds(req.duration_s), "negativePrompt": "blurry, distorted, low quality, watermark", "seed": req.seed as u32 }
        });
        let api = &self.backend.api;
        // Starting a Veo operation costs money: sent once, never retried.
        let v: Value = api.json(api.request(Method::POST, &format!("v1beta/models/{}:predictLongRunning", self.model)).json(&body)).await?;
        let name = v["name"].as_str().ok_or_else(|| ProviderError::Protocol(format!("{}: the answer names no operation: {v}", self.model)))?;
        Ok(Submitted::Pending(JobRef { provider: self.id(), remote_id: name.to_string() }))
    }
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.backend.ready()?;
        let api = &self.backend.api;
        let op: Value = api.json(api.request(Method::GET, &format!("v1beta/{}", job.remote_id))).await?;
        if op["done"].as_bool() != Some(true) {
            return Ok(JobState::Running { progress: op.pointer("/metadata/progressPercent").and_then(Value::as_f64).map(|p| (p / 100.0) as f32) });
        }
        if let Some(err) = op.get("error") {
            let msg = err["message"].as_str().unwrap_or("the operation failed");
            let lower = msg.to_ascii_lowercase();
            if lower.contains("safety") || lower.contains("responsible ai") || lower.contains("filtered") {
                return Err(ProviderError::ContentFiltered(format!("Veo operation {}: {msg}", job.remote_id)));
            }
            return Ok(JobState::Failed(format!("Veo operation {}: {msg} (code {})", job.remote_id, err["code"])));
        }
        let resp = op.pointer("/response/generateVideoResponse").cloned().unwrap_or(Value::Null);
        let uri = resp.pointer("/generatedSamples/0/video/uri").and_then(Value::as_str);
        match uri {
            Some(u) => Ok(JobState::Succeeded(Produced::new(MediaRef::Url(u.to_string())))),
            None if resp["raiMediaFilteredCount"].as_u64().unwrap_or(0) > 0 => {
                let reasons: Vec<String> = resp["raiMediaFilteredReasons"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_string)).collect();
                Err(ProviderError::ContentFiltered(format!("Veo filtered the video: {}", reasons.join("; "))))
            }
            None => Err(ProviderError::Protocol(format!("Veo operation {} finished with no video", job.remote_id))),
        }
    }
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError> {
        let api = &self.backend.api;
        match api.send(api.request(Method::POST, &format!("v1beta/{}:cancel", job.remote_id))).await {
            // Not every operation can be cancelled: it then runs to its end (and is paid).
            Err(ProviderError::NotFound(_) | ProviderError::InvalidRequest(_)) => {
                tracing::warn!(operation = %job.remote_id, "Veo cannot cancel this operation; it runs on");
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }
    async fn fetch(&self, media: MediaRef, ctx: &JobCtx) -> Result<MediaRef, ProviderError> {
        // Veo's file links need the API key.
        self.backend.fetch(media, MediaKind::Video, &ctx.work_dir, true).await
    }
    fn poll_interval(&self) -> Duration {
        self.backend.poll_interval(10_000)
    }
    fn estimate_usd(&self, req: &VideoRequest) -> Option<f64> {
        self.backend.estimate(&self.model, |p| p.video(Veo::seconds(req.duration_s) as f64))
    }
    fn limiter(&self) -> Option<Arc<Semaphore>> {
        Some(self.backend.limiter.clone())
    }
}

/// Google's Gemini API: images from `generateContent`, videos from Veo; the key goes in
/// `x-goog-api-key`.
pub static PROTOCOL: super::Protocol = super::Protocol {
    auth: |key| crate::providers::http::Auth::Header("x-goog-api-key", key),
    check_path: Some("v1beta/models"),
    chat: None,
    vision: None,
    image: Some(|backend, model, _| Ok(Arc::new(GeminiImage { backend, model }))),
    video: Some(|backend, model, _| Ok(Arc::new(Veo { backend, model }))),
    speech: None,
    transcription: None,
    music: None,
};
