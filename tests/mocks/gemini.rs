//! The Gemini API as documented at <https://ai.google.dev/api>: `x-goog-api-key` auth (a bad
//! key is a 400 `API_KEY_INVALID`), `models/{m}:generateContent` answering image parts as
//! `inlineData`, `models/{m}:predictLongRunning` answering an operation name that
//! `GET /v1beta/{name}` reports on until `done`, and file links that need the key.
//!
//! The model picks the behaviour: `img-ok`, `img-blocked` (promptFeedback.blockReason),
//! `img-safety` (finishReason IMAGE_SAFETY), `veo-ok` (done on the third poll),
//! `veo-filtered` (raiMediaFilteredCount), `veo-error`, `veo-busy` (a 429 with a
//! RetryInfo delay on the first poll).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

#[derive(Default)]
pub struct Gemini {
    pub key: String,
    pub base: Mutex<String>,
    pub creates: AtomicUsize,
    pub polls: AtomicUsize,
    pub downloads: AtomicUsize,
    pub bodies: Mutex<Vec<Value>>,
    ops: Mutex<HashMap<String, (String, u32)>>,
}

fn google_error(status: StatusCode, code: u16, text: &str, message: &str, details: Value) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message, "status": text, "details": details } }))).into_response()
}

impl Gemini {
    pub fn start(key: &str) -> (Arc<Gemini>, String) {
        let me = Arc::new(Gemini { key: key.into(), ..Default::default() });
        let app = Router::new()
            .route("/v1beta/models/{call}", post(call))
            .route("/v1beta/models/{model}/operations/{op}", get(operation))
            .route("/v1beta/files/{file}", get(file))
            .layer(axum::extract::DefaultBodyLimit::max(50 << 20))
            .with_state(me.clone());
        let base = super::serve(app);
        *me.base.lock().unwrap() = base.clone();
        (me, base)
    }

    fn denied(&self, h: &HeaderMap) -> Option<Response> {
        let ok = h.get("x-goog-api-key").and_then(|v| v.to_str().ok()) == Some(self.key.as_str());
        (!ok).then(|| {
            google_error(StatusCode::BAD_REQUEST, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", json!([{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com" }]))
        })
    }
}

async fn call(State(m): State<Arc<Gemini>>, Path(call): Path<String>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let Some((model, action)) = call.split_once(':') else { return StatusCode::NOT_FOUND.into_response() };
    m.bodies.lock().unwrap().push(body.clone());
    match action {
        "generateContent" => {
            if body.pointer("/contents/0/parts/0/text").and_then(Value::as_str).is_none() {
                return google_error(StatusCode::BAD_REQUEST, 400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified", json!([]));
            }
            m.creates.fetch_add(1, Ordering::SeqCst);
            let usage = json!({ "promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302 });
            match model {
                "img-blocked" => Json(json!({ "promptFeedback": { "blockReason": "PROHIBITED_CONTENT" }, "usageMetadata": usage })).into_response(),
                "img-safety" => Json(json!({ "candidates": [{ "content": { "parts": [], "role": "model" }, "finishReason": "IMAGE_SAFETY", "index": 0 }], "usageMetadata": usage })).into_response(),
                _ => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(&super::fixtures().png);
                    Json(json!({ "candidates": [{ "content": { "parts": [{ "text": "Here is your image." }, { "inlineData": { "mimeType": "image/png", "data": b64 } }], "role": "model" }, "finishReason": "STOP", "index": 0 }], "usageMetadata": usage, "modelVersion": model })).into_response()
                }
            }
        }
        "predictLongRunning" => {
            let inst = &body["instances"][0];
            if inst["prompt"].as_str().is_none() || inst.pointer("/image/bytesBase64Encoded").and_then(Value::as_str).is_none() {
                return google_error(StatusCode::BAD_REQUEST, 400, "INVALID_ARGUMENT", "instances[0].prompt and instances[0].image are required", json!([]));
            }
            if ![4, 6, 8].contains(&body["parameters"]["durationSeconds"].as_u64().unwrap_or(0)) {
                return google_error(StatusCode::BAD_REQUEST, 400, "INVALID_ARGUMENT", "durationSeconds must be 4, 6 or 8", json!([]));
            }
            let n = m.creates.fetch_add(1, Ordering::SeqCst) + 1;
            let name = format!("models/{model}/operations/op{n}");
            m.ops.lock().unwrap().insert(format!("op{n}"), (model.to_string(), 0));
            Json(json!({ "name": name })).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn operation(State(m): State<Arc<Gemini>>, Path((model, op)): Path<(String, String)>, h: HeaderMap) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    m.polls.fetch_add(1, Ordering::SeqCst);
    let polls = {
        let mut ops = m.ops.lock().unwrap();
        let Some(e) = ops.get_mut(&op) else {
            return google_error(StatusCode::NOT_FOUND, 404, "NOT_FOUND", "Operation not found", json!([]));
        };
        e.1 += 1;
        e.1
    };
    let name = format!("models/{model}/operations/{op}");
    if model == "veo-busy" && polls == 1 {
        return google_error(StatusCode::TOO_MANY_REQUESTS, 429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.", json!([{ "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s" }]));
    }
    if polls < 3 {
        return Json(json!({ "name": name })).into_response();
    }
    let base = m.base.lock().unwrap().clone();
    match model.as_str() {
        "veo-filtered" => Json(json!({ "name": name, "done": true, "response": { "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse", "generateVideoResponse": { "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["The video could not be generated because it may violate our usage guidelines."] } } })).into_response(),
        "veo-error" => Json(json!({ "name": name, "done": true, "error": { "code": 13, "message": "Video generation failed due to an internal error." } })).into_response(),
        _ => Json(json!({ "name": name, "done": true, "response": { "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse", "generateVideoResponse": { "generatedSamples": [{ "video": { "uri": format!("{base}/v1beta/files/vid123:download?alt=media") } }] } } })).into_response(),
    }
}

async fn file(State(m): State<Arc<Gemini>>, Path(file): Path<String>, h: HeaderMap) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    if file != "vid123:download" {
        return StatusCode::NOT_FOUND.into_response();
    }
    m.downloads.fetch_add(1, Ordering::SeqCst);
    (StatusCode::OK, [(header::CONTENT_TYPE, "video/mp4")], super::fixtures().mp4.clone()).into_response()
}
