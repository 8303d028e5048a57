//! Replicate's HTTP API as documented at <https://replicate.com/docs/reference/http>:
//! predictions created on `/v1/models/{owner}/{name}/predictions` or `/v1/predictions`
//! (201, `Prefer: wait=N`), polled on `/v1/predictions/{id}` with tqdm lines in `logs`,
//! cancelled on `.../cancel`; files uploaded on `/v1/files`; RFC 7807 errors.
//!
//! The model's name picks the behaviour: `ok`, `fast` (done within `Prefer: wait`),
//! `flaky` (a 500, then a 429 with Retry-After, then fine), `slowpoll` (the first poll
//! takes 3 s), `fail`, `nsfw`, `html` (the output link serves an HTML page), `hold` (runs
//! until released or cancelled), `malformed` (a broken JSON body on create),
//! `slowcreate` (the prediction is made at once but the create answers 3 s later).
//! `GET /v1/predictions` lists them newest first, two a page, with `next` links. An input
//! with `model_version` is MusicGen's: its output is a WAV link.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Replicate {
    pub token: String,
    pub base: Mutex<String>,
    pub creates: AtomicUsize,
    pub polls: AtomicUsize,
    pub cancels: AtomicUsize,
    pub uploads: AtomicUsize,
    pub lists: AtomicUsize,
    /// `hold` predictions finish once this is set.
    pub release: AtomicBool,
    /// Every create's `input`, in order.
    pub inputs: Mutex<Vec<Value>>,
    /// Every `Authorization` header seen.
    pub auth_headers: Mutex<Vec<String>>,
    preds: Mutex<HashMap<String, Pred>>,
    /// Seconds of `metrics.predict_time` reported for a finished prediction.
    pub predict_time: Mutex<f64>,
}

#[derive(Clone)]
struct Pred {
    model: String,
    polls: u32,
    canceled: bool,
    video: bool,
    /// MusicGen (`model_version` in the input): a WAV output.
    audio: bool,
    input: Value,
    created_at: String,
    seq: usize,
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut r = (status, Json(json!({ "title": title, "detail": detail, "status": status.as_u16() }))).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, "application/problem+json".parse().unwrap());
    r
}

impl Replicate {
    pub fn start(token: &str) -> (Arc<Replicate>, String) {
        let me = Arc::new(Replicate { token: token.into(), predict_time: Mutex::new(12.5), ..Default::default() });
        let app = Router::new()
            .route("/v1/models/{owner}/{name}/predictions", post(create_official))
            .route("/v1/predictions", post(create_version).get(list))
            .route("/v1/predictions/{id}", get(poll))
            .route("/v1/predictions/{id}/cancel", post(cancel))
            .route("/v1/files", post(upload))
            .route("/v1/account", get(account))
            .route("/files/{name}", get(file_route))
            .layer(axum::extract::DefaultBodyLimit::max(100 << 20))
            .with_state(me.clone());
        let base = super::serve(app);
        *me.base.lock().unwrap() = base.clone();
        (me, base)
    }

    fn authorized(&self, h: &HeaderMap) -> bool {
        let v = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        self.auth_headers.lock().unwrap().push(v.clone());
        v == format!("Bearer {}", self.token)
    }

    fn prediction(&self, id: &str, p: &Pred) -> Value {
        let base = self.base.lock().unwrap().clone();
        let behaviour = p.model.rsplit('/').next().unwrap_or("").split(':').next().unwrap_or("").to_string();
        let urls = json!({ "get": format!("{base}/v1/predictions/{id}"), "cancel": format!("{base}/v1/predictions/{id}/cancel") });
        let mut v = json!({ "id": id, "model": p.model, "version": "abc123", "status": "starting", "input": p.input, "output": null, "error": null, "logs": "", "metrics": {}, "urls": urls, "created_at": p.created_at, "source": "api" });
        if p.canceled {
            v["status"] = json!("canceled");
            return v;
        }
        let done_after = match behaviour.as_str() {
            "fast" => 0,
            "hold" if !self.release.load(Ordering::SeqCst) => u32::MAX,
            "hold" => p.polls,
            _ => 3,
        };
        if p.polls >= 1 && p.polls < done_after {
            let step = (p.polls * 2).min(4);
            v["status"] = json!("processing");
            v["logs"] = json!(format!("Loading pipeline...\n  0%|          | 0/4 [00:00<?, ?it/s]\r {:>3}%|#####     | {step}/4 [00:02<00:02,  1.00it/s]", step * 25));
            return v;
        }
        if p.polls >= done_after {
            match behaviour.as_str() {
                "fail" => {
                    v["status"] = json!("failed");
                    v["error"] = json!("CUDA out of memory. Tried to allocate 2.00 GiB");
                }
                "nsfw" => {
                    v["status"] = json!("failed");
                    v["error"] = json!("NSFW content detected. Try running it again, or try a different prompt.");
                }
                _ => {
                    let file = if behaviour == "html" { "page.html" } else if p.audio { "out.wav" } else if p.video { "out.mp4" } else { "out.png" };
                    v["status"] = json!("succeeded");
                    v["output"] = if p.video || p.audio { json!(format!("{base}/files/{file}")) } else { json!([format!("{base}/files/{file}")]) };
                    v["logs"] = json!("100%|##########| 4/4 [00:04<00:00,  1.00it/s]");
                    v["metrics"] = json!({ "predict_time": *self.predict_time.lock().unwrap(), "total_time": 14.0 });
                }
            }
        }
        v
    }

    async fn create(&self, h: HeaderMap, model: String, body: Bytes) -> Response {
        if !self.authorized(&h) {
            return problem(StatusCode::UNAUTHORIZED, "Unauthenticated", "You did not pass a valid authentication token");
        }
        let Ok(body) = serde_json::from_slice::<Value>(&body) else {
            return problem(StatusCode::BAD_REQUEST, "Invalid JSON", "The request body is not valid JSON");
        };
        if !body["input"]["prompt"].is_string() {
            return problem(StatusCode::UNPROCESSABLE_ENTITY, "Input validation failed", "input: prompt is required");
        }
        // The number this create took: two creates in flight at once get distinct ids.
        let seq = self.creates.fetch_add(1, Ordering::SeqCst) + 1;
        self.inputs.lock().unwrap().push(body["input"].clone());
        if model.ends_with("/malformed") {
            return (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], "{\"id\": \"x\", \"status\": ").into_response();
        }
        let id = format!("pred{seq:04}");
        let audio = body["input"].get("model_version").is_some();
        let video = body["input"].get("duration").is_some() && !audio;
        let created_at = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap();
        let p = Pred { model, polls: 0, canceled: false, video, audio, input: body["input"].clone(), created_at, seq };
        let wait = h.get("prefer").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("wait"));
        let mut shown = p.clone();
        if wait && p.model.ends_with("/fast") {
            shown.polls = 1;
        }
        let v = self.prediction(&id, &shown);
        let slow = p.model.ends_with("/slowcreate");
        self.preds.lock().unwrap().insert(id, p);
        // The prediction exists (and is billed) before the answer leaves: a client cut
        // off now never learns its id.
        if slow {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        (StatusCode::CREATED, Json(v)).into_response()
    }
}

async fn create_official(State(m): State<Arc<Replicate>>, Path((owner, name)): Path<(String, String)>, h: HeaderMap, body: Bytes) -> Response {
    m.create(h, format!("{owner}/{name}"), body).await
}

async fn create_version(State(m): State<Arc<Replicate>>, h: HeaderMap, body: Bytes) -> Response {
    let version = serde_json::from_slice::<Value>(&body).ok().and_then(|b| b["version"].as_str().map(str::to_string));
    match version {
        Some(v) => m.create(h, format!("community/{v}"), body).await,
        None => problem(StatusCode::UNPROCESSABLE_ENTITY, "Input validation failed", "version is required"),
    }
}

async fn poll(State(m): State<Arc<Replicate>>, Path(id): Path<String>, h: HeaderMap) -> Response {
    if !m.authorized(&h) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthenticated", "You did not pass a valid authentication token");
    }
    let n = m.polls.fetch_add(1, Ordering::SeqCst);
    let Some(mut p) = m.preds.lock().unwrap().get(&id).cloned() else {
        return problem(StatusCode::NOT_FOUND, "Not found", "The requested resource could not be found");
    };
    let behaviour = p.model.rsplit('/').next().unwrap_or("").to_string();
    let _ = n;
    let hits = p.polls;
    if behaviour == "flaky" && hits == 0 {
        bump(&m, &id);
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", "something went wrong");
    }
    if behaviour == "flaky" && hits == 1 {
        bump(&m, &id);
        let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "Too many requests", "Request was throttled. Expected available in 1 second.");
        r.headers_mut().insert(header::RETRY_AFTER, "1".parse().unwrap());
        return r;
    }
    if behaviour == "slowpoll" && hits == 0 {
        bump(&m, &id);
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    p.polls = bump(&m, &id);
    let p_shown = if behaviour == "flaky" { Pred { polls: p.polls - 2, ..p } } else if behaviour == "slowpoll" { Pred { polls: p.polls - 1, ..p } } else { p };
    (StatusCode::OK, Json(m.prediction(&id, &p_shown))).into_response()
}

fn bump(m: &Replicate, id: &str) -> u32 {
    let mut preds = m.preds.lock().unwrap();
    let p = preds.get_mut(id).unwrap();
    p.polls += 1;
    p.polls
}

async fn cancel(State(m): State<Arc<Replicate>>, Path(id): Path<String>, h: HeaderMap) -> Response {
    if !m.authorized(&h) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthenticated", "You did not pass a valid authentication token");
    }
    m.cancels.fetch_add(1, Ordering::SeqCst);
    let mut preds = m.preds.lock().unwrap();
    let Some(p) = preds.get_mut(&id) else {
        return problem(StatusCode::NOT_FOUND, "Not found", "The requested resource could not be found");
    };
    p.canceled = true;
    let p = p.clone();
    drop(preds);
    (StatusCode::OK, Json(m.prediction(&id, &p))).into_response()
}

async fn account(State(m): State<Arc<Replicate>>, h: HeaderMap) -> Response {
    if !m.authorized(&h) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthenticated", "You did not pass a valid authentication token");
    }
    Json(json!({ "type": "organization", "username": "acme", "name": "Acme", "github_url": null })).into_response()
}

async fn upload(State(m): State<Arc<Replicate>>, h: HeaderMap, body: Bytes) -> Response {
    if !m.authorized(&h) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthenticated", "You did not pass a valid authentication token");
    }
    let ctype = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ctype.starts_with("multipart/form-data") || !String::from_utf8_lossy(&body).contains("name=\"content\"") {
        return problem(StatusCode::BAD_REQUEST, "Bad request", "expected a multipart form with a 'content' file");
    }
    let n = m.uploads.fetch_add(1, Ordering::SeqCst) + 1;
    let base = m.base.lock().unwrap().clone();
    (StatusCode::CREATED, Json(json!({ "id": format!("file{n}"), "size": body.len(), "urls": { "get": format!("{base}/files/upload{n}.png") } }))).into_response()
}

/// Serve the fixtures by name: `.mp4`, `.wav`, `.html` (an error page), anything else as PNG.
pub async fn file_route(Path(name): Path<String>) -> Response {
    let f = super::fixtures();
    if name.ends_with(".html") {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>").into_response();
    }
    if name.ends_with(".wav") {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "audio/wav")], f.wav.clone()).into_response();
    }
    if name.ends_with(".mp4") {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "video/mp4")], f.mp4.clone()).into_response();
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], f.png.clone()).into_response()
}

/// `GET /v1/predictions[?cursor=N]`: newest first, two a page, as Replicate pages them.
async fn list(State(m): State<Arc<Replicate>>, h: HeaderMap, axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>) -> Response {
    if !m.authorized(&h) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthenticated", "You did not pass a valid authentication token");
    }
    m.lists.fetch_add(1, Ordering::SeqCst);
    let mut all: Vec<(String, Pred)> = m.preds.lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    all.sort_by_key(|p| std::cmp::Reverse(p.1.seq));
    let from: usize = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(from).take(2).map(|(id, p)| m.prediction(id, p)).collect();
    let base = m.base.lock().unwrap().clone();
    let next = (from + 2 < all.len()).then(|| format!("{base}/v1/predictions?cursor={}", from + 2));
    Json(json!({ "previous": null, "next": next, "results": page })).into_response()
}
