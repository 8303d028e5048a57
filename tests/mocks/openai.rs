//! An OpenAI-compatible server as the API reference documents it: `/v1/chat/completions`
//! (Bearer auth, `response_format` json_schema / json_object, `finish_reason`, `usage`,
//! `{"error": {message, type, code}}` errors), `/v1/images/generations` (b64_json or url)
//! `/v1/audio/speech` (raw audio bytes) and `/v1/audio/transcriptions` (multipart;
//! `verbose_json` with `timestamp_granularities[]=word` gives `words`; model
//! `whisper-mishear` drops a word, `whisper-broken` answers a body that is not JSON).
//!
//! The model name picks the server's behaviour: `gpt-ok` (structured output), `old-server`
//! (rejects json_schema, accepts json_object), `bare-server` (rejects both), `truncating`
//! (the first answer is cut off at the length limit), `fenced` (answers in a code fence),
//! `garbage` (never JSON), `refusing`, `broke` (429 insufficient_quota), `busy` (429 with
//! Retry-After once), `flaky` (503 once), `html-image` (an image link to an HTML page).
//!
//! And as the local servers really answer (seen against llama-cpp-python's server and
//! llama.cpp's `llama-server` with a tiny model): `llama-cpp-python` refuses
//! `json_schema` with a **500** whose message names the format; `llama-server-full`
//! answers its first request with 500 "output does not match the expected format" (the
//! grammar ran out of context); `text-only` answers image parts with 500 "image input is
//! not supported"; `cpu-slow` generates for ever (past any timeout) unless `max_tokens`
//! bounds the answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

#[derive(Default)]
pub struct OpenAi {
    pub key: String,
    pub base: Mutex<String>,
    pub chats: AtomicUsize,
    pub images: AtomicUsize,
    pub speeches: AtomicUsize,
    pub transcriptions: AtomicUsize,
    /// Every transcription form (field → value; the file as its byte count).
    pub transcription_forms: Mutex<Vec<std::collections::HashMap<String, String>>>,
    /// Every chat request body, in order.
    pub requests: Mutex<Vec<Value>>,
    per_model: Mutex<std::collections::HashMap<String, u32>>,
}

/// llama.cpp's `llama-server` error body.
fn llama_error(message: &str) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": { "code": 500, "message": message, "type": "server_error" } }))).into_response()
}

fn error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    (status, Json(json!({ "error": { "message": message, "type": kind, "param": null, "code": code } }))).into_response()
}

impl OpenAi {
    pub fn start(key: &str) -> (Arc<OpenAi>, String) {
        let me = Arc::new(OpenAi { key: key.into(), ..Default::default() });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/models", axum::routing::get(models))
            .route("/v1/images/generations", post(images))
            .route("/v1/audio/speech", post(speech))
            .route("/v1/audio/transcriptions", post(transcription))
            .route("/files/{name}", axum::routing::get(super::replicate::file_route))
            .layer(axum::extract::DefaultBodyLimit::max(50 << 20))
            .with_state(me.clone());
        let base = super::serve(app);
        *me.base.lock().unwrap() = base.clone();
        (me, format!("{base}/v1"))
    }

    fn check(&self, h: &HeaderMap) -> Option<Response> {
        let ok = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {}", self.key));
        (!ok).then(|| error(StatusCode::UNAUTHORIZED, "Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", Some("invalid_api_key")))
    }

    /// How many times this model has been called, this call included.
    fn nth(&self, model: &str) -> u32 {
        let mut m = self.per_model.lock().unwrap();
        let n = m.entry(model.to_string()).or_default();
        *n += 1;
        *n
    }
}

/// The JSON object a role asks for, told apart by its schema's required keys.
fn answer_for(schema_text: &str, user: &str) -> Value {
    let has = |k: &str| schema_text.contains(&format!("\"{k}\""));
    if has("logline") {
        json!({ "title": "Run Pink", "logline": "Pink shoes that make every run a show.", "beats": [
            { "stage": "attention", "text": "A flash of pink on a grey street." },
            { "stage": "interest", "text": "Light foam, springy stride." },
            { "stage": "desire", "text": "Friends notice the colour." },
            { "stage": "action", "text": "Shop now." } ] })
    } else if has("score") {
        json!({ "score": 8.5, "reasons": ["clear hook"], "suggestions": [] })
    } else if has("features") {
        json!({ "features": ["pink knit upper", "white sole"], "style": "bright street photography" })
    } else if has("intent") {
        json!({ "intent": "approve" })
    } else if has("notes") {
        let n = user.matches("\"description\"").count().max(1);
        json!({ "notes": ["kept the palette"], "scenes": (0..n).map(|i| scene(i, 2.0)).collect::<Vec<_>>() })
    } else {
        // "Break this story into N timed scenes for a D-second …"
        let n: usize = user.split("into ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or(3);
        let d: f64 = user.split("for a ").nth(1).and_then(|r| r.split("-second").next()).and_then(|v| v.parse().ok()).unwrap_or(6.0);
        json!({ "scenes": (0..n).map(|i| scene(i, d / n as f64)).collect::<Vec<_>>() })
    }
}

fn scene(i: usize, d: f64) -> Value {
    let cams = ["zoom-in", "pan-right", "dolly", "zoom-out"];
    json!({ "description": format!("Shot {}: pink running shoes on a wet street at dusk", i + 1), "duration_s": d, "shot_type": "medium",
            "camera": cams[i % cams.len()], "motion_intensity": 0.6, "on_screen_text": if i == 0 { "Run pink" } else { "" }, "voiceover": if i == 0 { "Run pink." } else { "" } })
}

async fn chat(State(m): State<Arc<OpenAi>>, h: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "We could not parse the JSON body of your request.", "invalid_request_error", None);
    };
    m.chats.fetch_add(1, Ordering::SeqCst);
    m.requests.lock().unwrap().push(req.clone());
    let model = req["model"].as_str().unwrap_or("").to_string();
    let format = req["response_format"]["type"].as_str().unwrap_or("").to_string();
    let n = m.nth(&model);
    match model.as_str() {
        "old-server" if format == "json_schema" => return error(StatusCode::BAD_REQUEST, "response_format json_schema is not supported by this server", "invalid_request_error", None),
        "bare-server" if !format.is_empty() => return error(StatusCode::BAD_REQUEST, &format!("Invalid value for 'response_format': '{format}' is not supported"), "invalid_request_error", Some("invalid_value")),
        "broke" => return error(StatusCode::TOO_MANY_REQUESTS, "You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", Some("insufficient_quota")),
        "busy" if n == 1 => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit reached for requests", "requests", Some("rate_limit_exceeded"));
            r.headers_mut().insert(header::RETRY_AFTER, "1".parse().unwrap());
            return r;
        }
        "flaky" if n == 1 => return error(StatusCode::SERVICE_UNAVAILABLE, "The server is overloaded or not ready yet.", "server_error", None),
        "llama-cpp-python" if format == "json_schema" => {
            // Its pydantic model allows two format types; the validation error is a 500.
            let message = "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}]";
            return error(StatusCode::INTERNAL_SERVER_ERROR, message, "internal_server_error", None);
        }
        "llama-server-full" if n == 1 => return llama_error("output does not match the expected format"),
        "cpu-slow" if !req["max_tokens"].is_u64() => {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
        _ => {}
    }
    let messages = req["messages"].as_array().cloned().unwrap_or_default();
    let system = messages.first().and_then(|m| m["content"].as_str()).unwrap_or("").to_string();
    let user_content = messages.get(1).map(|m| m["content"].clone()).unwrap_or(Value::Null);
    let user = match &user_content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            if let Some(url) = parts.iter().find_map(|p| p["image_url"]["url"].as_str()) {
                if model == "text-only" {
                    return llama_error("image input is not supported - hint: if this is unexpected, you may need to provide the mmproj");
                }
                if !url.starts_with("data:image/") {
                    return error(StatusCode::BAD_REQUEST, "image_url must be a data URI on this server", "invalid_request_error", None);
                }
            }
            parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n")
        }
        _ => String::new(),
    };
    let schema_text = format!("{} {}", req["response_format"]["json_schema"]["schema"], system);
    let obj = answer_for(&schema_text, &user);
    let (content, finish) = match model.as_str() {
        "truncating" if n == 1 => (obj.to_string()[..20].to_string(), "length"),
        "fenced" => (format!("Here you go:\n```json\n{obj}\n```"), "stop"),
        "garbage" => ("I'd be happy to help with your advert!".to_string(), "stop"),
        "refusing" => (String::new(), "content_filter"),
        _ => (obj.to_string(), "stop"),
    };
    Json(json!({
        "id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 1_790_000_000, "model": model,
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content, "refusal": null }, "finish_reason": finish }],
        "usage": { "prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200 }
    }))
    .into_response()
}

async fn images(State(m): State<Arc<OpenAi>>, h: HeaderMap, Json(req): Json<Value>) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    if !req["prompt"].is_string() {
        return error(StatusCode::BAD_REQUEST, "Missing required parameter: 'prompt'.", "invalid_request_error", Some("missing_required_parameter"));
    }
    if !["1024x1024", "1536x1024", "1024x1536", "1792x1024", "1024x1792"].contains(&req["size"].as_str().unwrap_or("")) {
        return error(StatusCode::BAD_REQUEST, "Invalid value for 'size'.", "invalid_request_error", Some("invalid_value"));
    }
    m.images.fetch_add(1, Ordering::SeqCst);
    if req["model"] == "html-image" {
        let base = m.base.lock().unwrap().clone();
        return Json(json!({ "created": 1, "data": [{ "url": format!("{base}/files/page.html") }] })).into_response();
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(&super::fixtures().png);
    Json(json!({ "created": 1, "data": [{ "b64_json": b64 }], "usage": { "input_tokens": 50, "output_tokens": 4160 } })).into_response()
}

async fn speech(State(m): State<Arc<OpenAi>>, h: HeaderMap, Json(req): Json<Value>) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    let input = req["input"].as_str().unwrap_or("");
    if input.is_empty() || input.chars().count() > 4096 || !req["voice"].is_string() {
        return error(StatusCode::BAD_REQUEST, "input must be 1 to 4096 characters and voice is required", "invalid_request_error", None);
    }
    m.speeches.fetch_add(1, Ordering::SeqCst);
    (StatusCode::OK, [(header::CONTENT_TYPE, "audio/wav")], super::fixtures().wav.clone()).into_response()
}

async fn transcription(State(m): State<Arc<OpenAi>>, h: HeaderMap, mut form: axum::extract::Multipart) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    let mut fields = std::collections::HashMap::new();
    let mut audio: Vec<u8> = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            audio = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            fields.insert("file".to_string(), audio.len().to_string());
        } else {
            fields.insert(name, field.text().await.unwrap_or_default());
        }
    }
    m.transcription_forms.lock().unwrap().push(fields.clone());
    if audio.is_empty() || fields.get("model").is_none_or(|s| s.is_empty()) {
        return error(StatusCode::BAD_REQUEST, "you must provide a model parameter and a file", "invalid_request_error", None);
    }
    let model = fields["model"].clone();
    if !model.starts_with("whisper") {
        return error(StatusCode::NOT_FOUND, &format!("The model `{model}` does not exist or you do not have access to it."), "invalid_request_error", Some("model_not_found"));
    }
    if model == "whisper-broken" {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"text\": \"Meet").into_response();
    }
    m.transcriptions.fetch_add(1, Ordering::SeqCst);
    // What was "heard" is the prompt (the script), timed evenly over the audio's length.
    let seconds = admint::media::Ffmpeg::locate().ok().and_then(|ff| {
        let dir = tempfile::tempdir().ok()?;
        let p = dir.path().join("a.bin");
        std::fs::write(&p, &audio).ok()?;
        ff.probe(&p).ok().map(|pr| pr.duration_s)
    }).unwrap_or(1.0);
    let script = fields.get("prompt").cloned().unwrap_or_default();
    let mut said: Vec<String> = script.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect();
    if model == "whisper-mishear" {
        said.pop();
    }
    let n = said.len().max(1) as f64;
    let words: Vec<Value> = said.iter().enumerate().map(|(i, w)| json!({ "word": w, "start": seconds * i as f64 / n, "end": seconds * (i + 1) as f64 / n })).collect();
    let verbose = fields.get("response_format").map(String::as_str) == Some("verbose_json");
    let granular = fields.get("timestamp_granularities[]").map(String::as_str) == Some("word");
    let mut body = json!({ "task": "transcribe", "language": "english", "duration": seconds, "text": said.join(" ") });
    if verbose && granular {
        body["words"] = json!(words);
    }
    Json(body).into_response()
}

/// The models this server serves (`GET /v1/models`, OpenAI's list shape).
pub const SERVED: [&str; 8] = ["gpt-4o-mini", "gpt-ok", "old-server", "bare-server", "gpt-image-1", "tts-1", "whisper-1", "llama-cpp-python"];

async fn models(State(m): State<Arc<OpenAi>>, h: HeaderMap) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    let data: Vec<Value> = SERVED.iter().map(|id| json!({ "id": id, "object": "model", "created": 1_700_000_000, "owned_by": "system" })).collect();
    Json(json!({ "object": "list", "data": data })).into_response()
}
