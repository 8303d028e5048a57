//! OpenAI-compatible servers (OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter):
//! chat completions with structured output, vision, image generation and speech.
//!
//! Structured output degrades per server: `response_format: json_schema` first; a server
//! that rejects it gets `json_object`; one that rejects both gets the schema in the prompt.
//! "Rejects" is any answer whose error names the format, whatever its status (llama-cpp-
//! python says 500). The level that worked is remembered for the rest of the run; a
//! backend's `structured_output` setting picks where to start.
//!
//! Every call is bounded (`max_tokens`). What local servers say with a 500 is read, not
//! retried blindly: "output does not match the expected format" is an unusable answer
//! (`Malformed`: the writer repairs it with another seed), "image input is not supported"
//! is a capability this model lacks (`Unsupported`: remembered, the chain moves on).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use base64::Engine as _;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{image_base64, image_data_uri, Backend};
use crate::domain::Cue;
use crate::providers::http::{check_bytes, MediaKind};
use crate::providers::pricing::Cost;
use crate::providers::{
    ChatModel, ChatRequest, ChatResponse, CostMeter, ImageRequest, JobCtx, MediaModel, MediaRef, Produced, ProviderError, SpeechModel, SpeechRequest, Spoken, Submitted, TranscriptionModel, TranscriptionRequest,
    VisionModel,
};

const SCHEMA: u8 = 0;
const OBJECT: u8 = 1;
const PROMPT: u8 = 2;

/// A chat model on an OpenAI-compatible server.
pub struct OpenAiChat {
    pub backend: Arc<Backend>,
    pub model: String,
    /// Structured-output level this server accepts (SCHEMA, OBJECT or PROMPT).
    level: AtomicU8,
    /// The server said this model takes no images: vision calls fail at once.
    no_images: AtomicBool,
    meter: Arc<CostMeter>,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// What a failed completion means, read from the server's words rather than its status
/// code alone (local servers answer 500 for all of these).
fn understood(e: ProviderError, asked_format: bool) -> ProviderError {
    let text = match &e {
        ProviderError::InvalidRequest(m) | ProviderError::Transient(m) | ProviderError::Protocol(m) => m.clone(),
        _ => return e,
    };
    let l = text.to_ascii_lowercase();
    let names_format = ["response_format", "json_schema", "json_object", "structured output", "'text' or"].iter().any(|w| l.contains(w));
    if asked_format && names_format {
        // Not retried: the loop steps down a level.
        return ProviderError::InvalidRequest(text);
    }
    if ["does not match the expected format", "failed to parse the output", "grammar"].iter().any(|w| l.contains(w)) {
        return ProviderError::Malformed(text);
    }
    let images = l.contains("image") || l.contains("vision") || l.contains("multimodal") || l.contains("mmproj");
    if images && (l.contains("not supported") || l.contains("unsupported") || l.contains("does not support") || l.contains("mmproj")) {
        return ProviderError::Unsupported(text);
    }
    e
}

/// Whether the server refused the `response_format` (see `understood`).
fn rejects_format(e: &ProviderError) -> bool {
    matches!(e, ProviderError::InvalidRequest(_))
}

fn level_named(name: &str) -> u8 {
    match name {
        "json_object" => OBJECT,
        "prompt" => PROMPT,
        _ => SCHEMA,
    }
}

impl OpenAiChat {
    pub fn new(backend: Arc<Backend>, model: String, meter: Arc<CostMeter>) -> OpenAiChat {
        let level = level_named(&backend.settings.structured_output);
        OpenAiChat { backend, model, level: AtomicU8::new(level), no_images: AtomicBool::new(false), meter }
    }

    /// The answer's bound for this call: the backend's setting, else the call's own.
    fn max_tokens(&self, req: &ChatRequest) -> u32 {
        match self.backend.settings.max_tokens {
            0 => req.max_tokens,
            n => n,
        }
    }

    fn body(&self, req: &ChatRequest, user_content: Value, level: u8) -> Value {
        let mut system = req.system.clone();
        if let (Some(schema), PROMPT | OBJECT) = (&req.json_schema, level) {
            system.push_str(&format!("\nThe JSON object must follow this JSON schema:\n{schema}"));
        }
        let mut body = json!({
            "model": self.model,
            "messages": [{ "role": "system", "content": system }, { "role": "user", "content": user_content }],
            "temperature": req.temperature,
            "seed": req.seed,
        });
        let max_tokens = self.max_tokens(req);
        if max_tokens > 0 {
            // OpenAI's own API has deprecated `max_tokens` (its reasoning models refuse
            // it); the servers that mimic it read `max_tokens`.
            let field = if self.backend.settings.base_url.contains("api.openai.com") { "max_completion_tokens" } else { "max_tokens" };
            body[field] = json!(max_tokens);
        }
        match (&req.json_schema, level) {
            (Some(schema), SCHEMA) => body["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": "answer", "strict": false, "schema": schema } }),
            (Some(_), OBJECT) => body["response_format"] = json!({ "type": "json_object" }),
            _ => {}
        }
        body
    }

    /// One completion, stepping down the structured-output levels when the server
    /// rejects one. Rate limits and 5xx that are not about the request are retried with
    /// backoff (a failed completion has no job to re-attach to and is not billed); a
    /// timeout is retried once — the same bounded request timing out twice will not
    /// finish the third time either.
    async fn complete_with(&self, req: &ChatRequest, user_content: Value) -> Result<ChatResponse, ProviderError> {
        self.backend.ready()?;
        let api = &self.backend.api;
        let timeouts = AtomicU32::new(0);
        loop {
            let level = self.level.load(Ordering::Relaxed);
            let body = self.body(req, user_content.clone(), level);
            let asked_format = req.json_schema.is_some() && level < PROMPT;
            let r: Result<Completion, ProviderError> = api
                .retrying("chat", || async {
                    match api.json(api.request(Method::POST, "chat/completions").json(&body)).await {
                        Err(ProviderError::Transient(m)) if m.contains("timed out") && timeouts.fetch_add(1, Ordering::Relaxed) >= 1 => Err(ProviderError::JobFailed(format!(
                            "{m} twice: the server is too slow for this answer — raise backends.{}.timeout_s or lower its max_tokens",
                            self.backend.name
                        ))),
                        r => r.map_err(|e| understood(e, asked_format)),
                    }
                })
                .await;
            let c = match r {
                Err(e) if asked_format && rejects_format(&e) => {
                    tracing::info!(model = %self.model, level, "server rejects this response_format; stepping down");
                    self.level.store(level + 1, Ordering::Relaxed);
                    continue;
                }
                other => other?,
            };
            let usage = c.usage.unwrap_or_default();
            let choice = c.choices.into_iter().next().ok_or_else(|| ProviderError::Protocol(format!("{}: the completion has no choices", self.model)))?;
            if let Some(refusal) = choice.message.refusal.filter(|r| !r.is_empty()) {
                return Err(ProviderError::ContentFiltered(format!("{} refused: {refusal}", self.model)));
            }
            if choice.finish_reason.as_deref() == Some("content_filter") {
                return Err(ProviderError::ContentFiltered(format!("{}: the answer was withheld by the content filter", self.model)));
            }
            let cost = self.backend.price(&self.model).map(|p| p.tokens(usage.prompt_tokens, usage.completion_tokens));
            let cost_usd = cost.unwrap_or(0.0);
            self.meter.add(&self.backend.model_id(&self.model), cost, ChatModel::estimate_usd(self, req));
            return Ok(ChatResponse {
                text: choice.message.content.unwrap_or_default(),
                cost_usd,
                truncated: choice.finish_reason.as_deref() == Some("length"),
            });
        }
    }
}

#[async_trait]
impl ChatModel for OpenAiChat {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        self.complete_with(req, json!(req.user)).await
    }
    fn estimate_usd(&self, req: &ChatRequest) -> Option<f64> {
        // About four characters a token; answers are short JSON objects.
        let input = ((req.system.len() + req.user.len()) / 4) as u64;
        self.backend.estimate(&self.model, |p| p.tokens(input, 1500))
    }
}

#[async_trait]
impl VisionModel for OpenAiChat {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn describe(&self, image: &MediaRef, system: &str, prompt: &str, json_schema: Option<Value>) -> Result<ChatResponse, ProviderError> {
        if self.no_images.load(Ordering::Relaxed) {
            return Err(ProviderError::Unsupported(format!("{} takes no image input (the server said so earlier)", self.backend.model_id(&self.model))));
        }
        // Data URIs, not links: Ollama and llama.cpp do not fetch http URLs.
        let url = match image {
            MediaRef::Local(p) => image_data_uri(p)?,
            MediaRef::Url(u) => u.clone(),
            MediaRef::Bytes { data, .. } => {
                let (mime, b64) = image_base64(data, "the image")?;
                format!("data:{mime};base64,{b64}")
            }
        };
        let req = ChatRequest {
            system: system.into(),
            user: prompt.into(),
            json_schema,
            temperature: 0.2,
            seed: 0,
            max_tokens: crate::providers::llm::max_tokens_for("reference_analyst"),
        };
        let content = json!([{ "type": "text", "text": prompt }, { "type": "image_url", "image_url": { "url": url } }]);
        let r = self.complete_with(&req, content).await;
        if let Err(ProviderError::Unsupported(m)) = &r {
            tracing::warn!(model = %self.backend.model_id(&self.model), error = %m, "this model takes no images; vision calls go to the next in the chain");
            self.no_images.store(true, Ordering::Relaxed);
        }
        r
    }
}

/// `/images/generations` (gpt-image-1, dall-e-3, and local servers that mimic them).
pub struct OpenAiImages {
    pub backend: Arc<Backend>,
    pub model: String,
}

impl OpenAiImages {
    fn size(&self, w: u32, h: u32) -> &'static str {
        let dalle = self.model.starts_with("dall-e");
        match (w as f64 / h.max(1) as f64, dalle) {
            (r, false) if r > 1.2 => "1536x1024",
            (r, false) if r < 0.83 => "1024x1536",
            (r, true) if r > 1.2 => "1792x1024",
            (r, true) if r < 0.83 => "1024x1792",
            _ => "1024x1024",
        }
    }
}

#[async_trait]
impl MediaModel<ImageRequest> for OpenAiImages {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn submit(&self, req: &ImageRequest, _ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        self.backend.ready()?;
        let mut prompt = req.prompt.clone();
        if !req.palette.is_empty() {
            prompt.push_str(&format!(" Colour palette: {}.", req.palette.join(", ")));
        }
        let mut body = json!({ "model": self.model, "prompt": prompt, "n": 1, "size": self.size(req.width, req.height) });
        if self.model.starts_with("dall-e") {
            body["response_format"] = json!("b64_json");
        }
        let api = &self.backend.api;
        // A paid generation: sent once.
        let v: Value = api.json(api.request(Method::POST, "images/generations").json(&body)).await?;
        let item = v.pointer("/data/0").ok_or_else(|| ProviderError::Protocol(format!("{}: the answer has no image", self.model)))?;
        let media = if let Some(b64) = item.get("b64_json").and_then(Value::as_str) {
            let data = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| ProviderError::Protocol(format!("{}: bad base64 image: {e}", self.model)))?;
            let ext = check_bytes(&data, MediaKind::Image, &self.backend.name)?.to_string();
            MediaRef::Bytes { data, ext }
        } else if let Some(url) = item.get("url").and_then(Value::as_str) {
            MediaRef::Url(url.to_string())
        } else {
            return Err(ProviderError::Protocol(format!("{}: the image has neither b64_json nor url", self.model)));
        };
        Ok(Submitted::Done(Produced::new(media)))
    }
    async fn fetch(&self, media: MediaRef, ctx: &JobCtx) -> Result<MediaRef, ProviderError> {
        self.backend.fetch(media, MediaKind::Image, &ctx.work_dir, false).await
    }
    fn estimate_usd(&self, _req: &ImageRequest) -> Option<f64> {
        self.backend.estimate(&self.model, |p| p.images(1))
    }
    fn limiter(&self) -> Option<Arc<Semaphore>> {
        Some(self.backend.limiter.clone())
    }
}

/// `/audio/speech` (OpenAI TTS, Kokoro-FastAPI, speaches, LocalAI…).
pub struct OpenAiSpeech {
    pub backend: Arc<Backend>,
    pub model: String,
    pub voice: String,
}

#[async_trait]
impl SpeechModel for OpenAiSpeech {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<Spoken, ProviderError> {
        self.backend.ready()?;
        if req.text.chars().count() > 4096 {
            return Err(ProviderError::InvalidRequest(format!("voiceover line of {} characters is over the 4096 the speech API takes", req.text.chars().count())));
        }
        let voice = if req.voice.is_empty() { self.voice.clone() } else { req.voice.clone() };
        let body = json!({ "model": self.model, "input": req.text, "voice": voice, "response_format": "wav" });
        let api = &self.backend.api;
        let resp = api.send(api.request(Method::POST, "audio/speech").json(&body)).await?;
        let data = resp.bytes().await.map_err(|e| api.transport(e))?;
        let ext = check_bytes(&data, MediaKind::Audio, &self.backend.name)?;
        let path = ctx.work_dir.join(format!("speech-{}.{ext}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, &data)?;
        // The speech API reports no usage: the ledger books the estimate (exact per
        // character). It returns no timings either: captions come from transcription or
        // admint's aligner.
        Ok(Spoken { produced: Produced::new(MediaRef::Local(path)), words: None })
    }
    fn estimate_usd(&self, req: &SpeechRequest) -> Option<f64> {
        self.backend.estimate(&self.model, |p| p.characters(req.text.chars().count()))
    }
}

/// `/audio/transcriptions` with word timestamps (`verbose_json`,
/// `timestamp_granularities[]=word`): OpenAI's whisper-1, and local Whisper servers
/// (speaches, faster-whisper-server, LocalAI) that speak the same API.
pub struct OpenAiTranscription {
    pub backend: Arc<Backend>,
    pub model: String,
}

#[derive(Deserialize)]
struct Transcript {
    #[serde(default)]
    words: Option<Vec<TranscriptWord>>,
}

#[derive(Deserialize)]
struct TranscriptWord {
    word: String,
    start: f64,
    end: f64,
}

#[async_trait]
impl TranscriptionModel for OpenAiTranscription {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn transcribe(&self, req: &TranscriptionRequest) -> Result<Vec<Cue>, ProviderError> {
        self.backend.ready()?;
        let data = tokio::fs::read(&req.audio).await?;
        let name = req.audio.file_name().and_then(|n| n.to_str()).unwrap_or("line.wav").to_string();
        let mime = if name.ends_with(".mp3") { "audio/mpeg" } else { "audio/wav" };
        let api = &self.backend.api;
        // Reading audio changes nothing on the server: safe to retry.
        let t: Transcript = api
            .retrying("transcription", || {
                let part = reqwest::multipart::Part::bytes(data.clone()).file_name(name.clone()).mime_str(mime).expect("static mime");
                let mut form = reqwest::multipart::Form::new()
                    .part("file", part)
                    .text("model", self.model.clone())
                    .text("response_format", "verbose_json")
                    .text("timestamp_granularities[]", "word")
                    .text("prompt", req.script.clone());
                if !req.language.trim().is_empty() {
                    form = form.text("language", req.language.trim().to_string());
                }
                api.json(api.request(Method::POST, "audio/transcriptions").multipart(form))
            })
            .await?;
        let words = t.words.ok_or_else(|| ProviderError::Protocol(format!("{}: the transcription has no word timings (does the server support timestamp_granularities?)", self.id())))?;
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            if !w.start.is_finite() || !w.end.is_finite() || w.end < w.start || w.start < 0.0 {
                return Err(ProviderError::Protocol(format!("{}: the word \"{}\" has the time {}..{}", self.id(), w.word, w.start, w.end)));
            }
            let text = w.word.trim().to_string();
            if !text.is_empty() {
                out.push(Cue { start_s: w.start, end_s: w.end, text });
            }
        }
        Ok(out)
    }
    fn estimate_usd(&self, req: &TranscriptionRequest) -> Option<f64> {
        self.backend.estimate(&self.model, |p| p.per_call + p.per_audio_minute * req.duration_s / 60.0)
    }
}

/// The models the server says it serves (`GET /models`), for `doctor`.
pub async fn served_models(backend: &Backend) -> Result<Vec<String>, ProviderError> {
    #[derive(Deserialize)]
    struct Listed {
        id: String,
    }
    #[derive(Deserialize)]
    struct List {
        data: Vec<Listed>,
    }
    let api = &backend.api;
    let l: List = api.retrying("models", || api.json(api.request(Method::GET, "models").timeout(std::time::Duration::from_secs(5)))).await?;
    Ok(l.data.into_iter().map(|m| m.id).collect())
}

/// Whether `model` is among the served ones (Ollama lists `llama3:latest` for `llama3`).
pub fn is_served(model: &str, served: &[String]) -> bool {
    served.iter().any(|s| s == model || s.strip_suffix(":latest") == Some(model) || s.rsplit('/').next() == Some(model))
}

/// OpenAI-compatible servers: chat, vision, images and speech; keys as bearer tokens.
pub static PROTOCOL: super::Protocol = super::Protocol {
    auth: crate::providers::http::Auth::Bearer,
    check_path: Some("models"),
    chat: Some(|b, model, kit| Ok(Arc::new(OpenAiChat::new(b, model, kit.meter.clone())))),
    vision: Some(|b, model, kit| Ok(Arc::new(OpenAiChat::new(b, model, kit.meter.clone())))),
    image: Some(|backend, model, _| Ok(Arc::new(OpenAiImages { backend, model }))),
    video: None,
    speech: Some(|backend, model, _| Ok(Arc::new(OpenAiSpeech { backend, model, voice: "alloy".into() }))),
    transcription: Some(|backend, model, _| Ok(Arc::new(OpenAiTranscription { backend, model }))),
    music: None,
};
