//! ElevenLabs as its API reference documents it: `POST /v1/text-to-speech/{voice_id}/with-timestamps`
//! (`xi-api-key` header, `output_format` query, `{text, model_id}` body) answering
//! `{audio_base64, alignment: {characters, character_start_times_seconds,
//! character_end_times_seconds}, normalized_alignment}`, `GET /v1/voices`, and its error
//! shapes: `{"detail": {"status", "message"}}` (401 invalid key or quota, 400 content
//! policy, 429 busy) and FastAPI's `{"detail": [{"loc", "msg", "type"}]}` on 422.
//!
//! The model picks the behaviour: `eleven_multilingual_v2` (works), `eleven_quota`
//! (out of credits), `eleven_busy` (429 too many concurrent requests), `eleven_garbage`
//! (a body that is not JSON), `eleven_slow` (answers after 1.5 s); a text containing
//! "forbidden" is refused by the content policy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

/// A generation in the account's history: (id, voice, model, text, date_unix, audio).
pub type Item = (String, String, String, String, u64, Vec<u8>);

#[derive(Default)]
pub struct ElevenLabs {
    pub key: String,
    /// Lines delivered (and so charged), and every request body.
    pub delivered: AtomicUsize,
    pub delivered_texts: Mutex<Vec<String>>,
    pub requests: Mutex<Vec<(String, String, Value)>>,
    /// The account's history, oldest first.
    pub history: Mutex<Vec<Item>>,
    pub history_reads: AtomicUsize,
}

fn detail(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "detail": { "status": code, "message": message } }))).into_response()
}

impl ElevenLabs {
    pub fn start(key: &str) -> (Arc<ElevenLabs>, String) {
        let me = Arc::new(ElevenLabs { key: key.into(), ..Default::default() });
        let app = Router::new()
            .route("/v1/text-to-speech/{voice}/with-timestamps", post(speak))
            .route("/v1/voices", get(voices))
            .route("/v1/history", get(history))
            .route("/v1/history/{id}/audio", get(history_audio))
            .with_state(me.clone());
        (me, super::serve(app))
    }

    fn check(&self, h: &HeaderMap) -> Option<Response> {
        let ok = h.get("xi-api-key").and_then(|v| v.to_str().ok()) == Some(self.key.as_str());
        (!ok).then(|| detail(StatusCode::UNAUTHORIZED, "invalid_api_key", "Invalid API key"))
    }
}

async fn voices(State(m): State<Arc<ElevenLabs>>, h: HeaderMap) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    Json(json!({ "voices": [{ "voice_id": "JBFqnCBsd6RMkjVDRZzb", "name": "George" }, { "voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel" }] })).into_response()
}

async fn speak(
    State(m): State<Arc<ElevenLabs>>,
    Path(voice): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    h: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": [{ "loc": ["body"], "msg": "JSON decode error", "type": "json_invalid" }] }))).into_response();
    };
    let text = req["text"].as_str().unwrap_or("").to_string();
    let model = req["model_id"].as_str().unwrap_or("eleven_multilingual_v2").to_string();
    m.requests.lock().unwrap().push((voice.clone(), q.get("output_format").cloned().unwrap_or_default(), req.clone()));
    if text.is_empty() {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": [{ "loc": ["body", "text"], "msg": "field required", "type": "value_error.missing" }] }))).into_response();
    }
    if !["JBFqnCBsd6RMkjVDRZzb", "21m00Tcm4TlvDq8ikWAM"].contains(&voice.as_str()) {
        return detail(StatusCode::NOT_FOUND, "voice_not_found", &format!("A voice with the voice_id {voice} was not found."));
    }
    match model.as_str() {
        "eleven_quota" => return detail(StatusCode::UNAUTHORIZED, "quota_exceeded", "This request exceeds your quota of 10000. You have 12 credits remaining, while 43 credits are required for this request."),
        "eleven_busy" => return detail(StatusCode::TOO_MANY_REQUESTS, "too_many_concurrent_requests", "Too many concurrent requests for your subscription."),
        "eleven_garbage" => return (StatusCode::OK, "upstream timeout; please retry").into_response(),
        "eleven_slow" => tokio::time::sleep(std::time::Duration::from_millis(1500)).await,
        _ => {}
    }
    if text.to_lowercase().contains("forbidden") {
        return detail(StatusCode::BAD_REQUEST, "content_policy_violation", "The text violates our content policy.");
    }
    // Speech at a brisk pace (60 ms a character, 50 ms of silence each side), characters
    // spread evenly over it.
    let chars: Vec<String> = text.chars().map(|c| c.to_string()).collect();
    let speech = 0.06 * chars.len() as f64;
    let n = chars.len() as f64;
    let starts: Vec<f64> = (0..chars.len()).map(|i| 0.05 + speech * i as f64 / n).collect();
    let ends: Vec<f64> = (0..chars.len()).map(|i| 0.05 + speech * (i + 1) as f64 / n).collect();
    let alignment = json!({ "characters": chars, "character_start_times_seconds": starts, "character_end_times_seconds": ends });
    let mp3 = super::mp3_of(speech + 0.1);
    let audio = base64::engine::general_purpose::STANDARD.encode(&mp3);
    // Made and charged: it is in the history whether or not the client is still there.
    let mut hist = m.history.lock().unwrap();
    let id = format!("hist{:04}", hist.len() + 1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    hist.push((id, voice.clone(), model.clone(), text.clone(), now, mp3));
    drop(hist);
    m.delivered.fetch_add(1, Ordering::SeqCst);
    m.delivered_texts.lock().unwrap().push(text.clone());
    Json(json!({ "audio_base64": audio, "alignment": alignment, "normalized_alignment": alignment })).into_response()
}

async fn history(State(m): State<Arc<ElevenLabs>>, h: HeaderMap, Query(q): Query<std::collections::HashMap<String, String>>) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    m.history_reads.fetch_add(1, Ordering::SeqCst);
    let size: usize = q.get("page_size").and_then(|s| s.parse().ok()).unwrap_or(100).min(1000);
    let items: Vec<Value> = m
        .history
        .lock()
        .unwrap()
        .iter()
        .rev()
        .filter(|i| q.get("voice_id").is_none_or(|v| *v == i.1))
        .take(size)
        .map(|(id, voice, model, text, at, _)| json!({ "history_item_id": id, "request_id": format!("req-{id}"), "voice_id": voice, "model_id": model, "voice_name": "George", "text": text, "date_unix": at, "character_count_change_from": 0, "character_count_change_to": text.chars().count(), "content_type": "audio/mpeg", "state": "created", "source": "TTS" }))
        .collect();
    Json(json!({ "history": items, "last_history_item_id": items.last().map(|i| i["history_item_id"].clone()), "has_more": false })).into_response()
}

async fn history_audio(State(m): State<Arc<ElevenLabs>>, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = m.check(&h) {
        return r;
    }
    match m.history.lock().unwrap().iter().find(|i| i.0 == id) {
        Some(i) => (StatusCode::OK, [(axum::http::header::CONTENT_TYPE, "audio/mpeg")], i.5.clone()).into_response(),
        None => detail(StatusCode::NOT_FOUND, "history_item_not_found", &format!("History item {id} was not found.")),
    }
}
