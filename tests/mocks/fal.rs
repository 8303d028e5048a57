//! fal's queue as documented at <https://docs.fal.ai/model-endpoints/queue>: `POST
//! /{owner}/{app}[/{subpath}]` (Authorization: Key …) answers with the request's
//! `status_url`, `response_url` and `cancel_url` under `/{owner}/{app}/requests/{id}`;
//! status is 202 while `IN_QUEUE` / `IN_PROGRESS` and 200 once `COMPLETED`; cancel is a PUT.
//!
//! The app name picks the behaviour: `ok` (queued at position 1, then in progress with
//! tqdm logs, then done), `flaky` (a 503, then a 429 with an HTTP-date Retry-After), `fail`
//! (completed with an error), `filtered` (content policy), `nsfw` (the safety checker
//! flags the image), `html`, `hold` (until released or cancelled), `garbled` (a result
//! body that is not JSON). A body with
//! `seconds_total` is Stable Audio: it answers `{"audio_file": {url, content_type}}` and
//! refuses more than 47 seconds as its API does. `slowcreate` makes the request at once
//! but answers the submit 3 s later (a client cut off then never learns its id).
//!
//! The platform API's `GET /v1/models/requests/by-endpoint` (documented at
//! <https://docs.fal.ai/platform-apis/v1/models/requests/by-endpoint>) lists an
//! endpoint's requests once they have ended (here: 1 s after they were sent), newest end
//! first, two a page with `next_cursor` / `has_more`, with `json_input` when
//! `expand=payloads`; `endpoint_id` is required and `start` bounds `sent_at`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Fal {
    pub key: String,
    pub base: Mutex<String>,
    pub creates: AtomicUsize,
    pub status_calls: AtomicUsize,
    pub cancels: AtomicUsize,
    pub lists: AtomicUsize,
    pub release: AtomicBool,
    pub bodies: Mutex<Vec<Value>>,
    reqs: Mutex<HashMap<String, Req>>,
}

#[derive(Clone)]
struct Req {
    app: String,
    video: bool,
    /// Stable Audio (`seconds_total`): answers `{"audio_file": {…}}`.
    audio: bool,
    polls: u32,
    canceled: bool,
    endpoint: String,
    input: Value,
    sent_ms: u64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

fn rfc3339(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap()
}

fn detail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({ "detail": msg }))).into_response()
}

impl Fal {
    pub fn start(key: &str) -> (Arc<Fal>, String) {
        let me = Arc::new(Fal { key: key.into(), ..Default::default() });
        let app = Router::new()
            .route("/{owner}/{app}", post(submit))
            .route("/{owner}/{app}/{*sub}", post(submit_sub))
            .route("/{owner}/{app}/requests/{id}/status", get(status))
            .route("/{owner}/{app}/requests/{id}", get(result))
            .route("/{owner}/{app}/requests/{id}/cancel", put(cancel))
            .route("/files/{name}", get(super::replicate::file_route))
            .route("/v1/models/requests/by-endpoint", get(list))
            .with_state(me.clone());
        let base = super::serve(app);
        *me.base.lock().unwrap() = base.clone();
        (me, base)
    }

    fn authorized(&self, h: &HeaderMap) -> bool {
        h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Key {}", self.key))
    }
}

async fn submit(State(m): State<Arc<Fal>>, Path((owner, app)): Path<(String, String)>, h: HeaderMap, body: Bytes) -> Response {
    let endpoint = format!("{owner}/{app}");
    enqueue(&m, &owner, &app, &endpoint, &h, body).await
}

async fn submit_sub(State(m): State<Arc<Fal>>, Path((owner, app, sub)): Path<(String, String, String)>, h: HeaderMap, body: Bytes) -> Response {
    let endpoint = format!("{owner}/{app}/{sub}");
    enqueue(&m, &owner, &app, &endpoint, &h, body).await
}

async fn enqueue(m: &Fal, owner: &str, app: &str, endpoint: &str, h: &HeaderMap, body: Bytes) -> Response {
    if !m.authorized(h) {
        return detail(StatusCode::UNAUTHORIZED, "Invalid Key header");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return detail(StatusCode::UNPROCESSABLE_ENTITY, "body is not JSON");
    };
    if !body["prompt"].is_string() {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": [{ "loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing" }] }))).into_response();
    }
    let n = m.creates.fetch_add(1, Ordering::SeqCst) + 1;
    m.bodies.lock().unwrap().push(body.clone());
    let id = format!("req-{n:04}-4b1f");
    let video = body.get("duration").is_some();
    let audio = body.get("seconds_total").is_some();
    if audio && !body["seconds_total"].as_u64().is_some_and(|s| (1..=47).contains(&s)) {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": [{ "loc": ["body", "seconds_total"], "msg": "ensure this value is less than or equal to 47", "type": "value_error.number.not_le" }] }))).into_response();
    }
    m.reqs.lock().unwrap().insert(id.clone(), Req { app: app.into(), video, audio, polls: 0, canceled: false, endpoint: endpoint.into(), input: body.clone(), sent_ms: now_ms() });
    if app == "slowcreate" {
        // The request exists (and will be billed) before the answer leaves.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    let base = m.base.lock().unwrap().clone();
    let u = format!("{base}/{owner}/{app}/requests/{id}");
    (
        StatusCode::OK,
        Json(json!({ "request_id": id, "status": "IN_QUEUE", "queue_position": 1, "response_url": u, "status_url": format!("{u}/status"), "cancel_url": format!("{u}/cancel") })),
    )
        .into_response()
}

async fn status(State(m): State<Arc<Fal>>, Path((owner, app, id)): Path<(String, String, String)>, h: HeaderMap) -> Response {
    if !m.authorized(&h) {
        return detail(StatusCode::UNAUTHORIZED, "Invalid Key header");
    }
    m.status_calls.fetch_add(1, Ordering::SeqCst);
    let mut reqs = m.reqs.lock().unwrap();
    let Some(r) = reqs.get_mut(&id) else { return detail(StatusCode::NOT_FOUND, "Request not found") };
    r.polls += 1;
    let r = r.clone();
    drop(reqs);
    let base = m.base.lock().unwrap().clone();
    let u = format!("{base}/{owner}/{app}/requests/{id}");
    let mut v = json!({ "status": "IN_QUEUE", "queue_position": 0, "response_url": u, "status_url": format!("{u}/status"), "cancel_url": format!("{u}/cancel"), "logs": [] });
    let mut polls = r.polls;
    if r.app == "flaky" {
        if polls == 1 {
            return detail(StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable");
        }
        if polls == 2 {
            let when = httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(2));
            let mut resp = detail(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            resp.headers_mut().insert(header::RETRY_AFTER, when.parse().unwrap());
            return resp;
        }
        polls -= 2;
    }
    if r.canceled {
        v["status"] = json!("CANCELED");
        return (StatusCode::OK, Json(v)).into_response();
    }
    let hold = r.app == "hold" && !m.release.load(Ordering::SeqCst);
    match polls {
        1 => v["queue_position"] = json!(0),
        2 | 3 => {
            v["status"] = json!("IN_PROGRESS");
            v["logs"] = json!([{ "message": "Loading model", "level": "INFO", "timestamp": "2026-11-22T10:00:00Z" }, { "message": format!("{:>3}%|#####     | {}/10 [00:03<00:03]", (polls - 1) * 30, (polls - 1) * 3), "level": "INFO", "timestamp": "2026-11-22T10:00:03Z" }]);
        }
        _ if hold => {
            v["status"] = json!("IN_PROGRESS");
            v["logs"] = json!([{ "message": " 60%|######    | 6/10 [00:06<00:04]", "level": "INFO", "timestamp": "2026-11-22T10:00:06Z" }]);
        }
        _ => {
            v["status"] = json!("COMPLETED");
            match r.app.as_str() {
                "fail" => v["error"] = json!("Runner crashed: CUDA error: device-side assert triggered"),
                "filtered" => {
                    v["error"] = json!("The prompt was flagged by the content checker");
                    v["error_type"] = json!("content_policy_violation");
                }
                _ => {}
            }
            return (StatusCode::OK, Json(v)).into_response();
        }
    }
    (StatusCode::ACCEPTED, Json(v)).into_response()
}

async fn result(State(m): State<Arc<Fal>>, Path((_owner, _app, id)): Path<(String, String, String)>, h: HeaderMap) -> Response {
    if !m.authorized(&h) {
        return detail(StatusCode::UNAUTHORIZED, "Invalid Key header");
    }
    let Some(r) = m.reqs.lock().unwrap().get(&id).cloned() else { return detail(StatusCode::NOT_FOUND, "Request not found") };
    let base = m.base.lock().unwrap().clone();
    if r.app == "garbled" {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"audio_file\": {\"url\": ").into_response();
    }
    let file = if r.app == "html" { "page.html" } else if r.video { "out.mp4" } else if r.audio { "out.wav" } else { "out.png" };
    let url = format!("{base}/files/{file}");
    if r.audio {
        (StatusCode::OK, Json(json!({ "audio_file": { "url": url, "content_type": "audio/wav", "file_name": "out.wav", "file_size": 1234 } }))).into_response()
    } else if r.video {
        (StatusCode::OK, Json(json!({ "video": { "url": url, "content_type": "video/mp4", "file_size": 1234 } }))).into_response()
    } else {
        let nsfw = r.app == "nsfw";
        (StatusCode::OK, Json(json!({ "images": [{ "url": url, "content_type": "image/png", "width": 400, "height": 240 }], "has_nsfw_concepts": [nsfw], "seed": 1, "timings": { "inference": 0.4 } }))).into_response()
    }
}

async fn cancel(State(m): State<Arc<Fal>>, Path((_owner, _app, id)): Path<(String, String, String)>, h: HeaderMap) -> Response {
    if !m.authorized(&h) {
        return detail(StatusCode::UNAUTHORIZED, "Invalid Key header");
    }
    m.cancels.fetch_add(1, Ordering::SeqCst);
    let mut reqs = m.reqs.lock().unwrap();
    let Some(r) = reqs.get_mut(&id) else { return detail(StatusCode::NOT_FOUND, "Request not found") };
    r.canceled = true;
    (StatusCode::ACCEPTED, Json(json!({ "status": "CANCELLATION_REQUESTED" }))).into_response()
}

async fn list(State(m): State<Arc<Fal>>, h: HeaderMap, axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>) -> Response {
    if !m.authorized(&h) {
        return detail(StatusCode::UNAUTHORIZED, "Invalid Key header");
    }
    m.lists.fetch_add(1, Ordering::SeqCst);
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let Some(endpoint) = get("endpoint_id") else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": [{ "loc": ["query", "endpoint_id"], "msg": "field required", "type": "value_error.missing" }] }))).into_response();
    };
    let start = get("start").and_then(|s| time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok()).map_or(now_ms() - 86_400_000, |t| (t.unix_timestamp_nanos() / 1_000_000) as u64);
    let payloads = q.iter().any(|(k, v)| k == "expand" && v.split(',').any(|e| e == "payloads"));
    let now = now_ms();
    let mut ended: Vec<(String, Req)> = m
        .reqs
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, r)| r.endpoint == endpoint && r.sent_ms >= start && r.app != "hold" && now >= r.sent_ms + 1000)
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect();
    ended.sort_by_key(|(_, r)| std::cmp::Reverse(r.sent_ms));
    let page: usize = get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let items: Vec<Value> = ended
        .iter()
        .skip(page * 2)
        .take(2)
        .map(|(id, r)| {
            let mut v = json!({ "request_id": id, "endpoint_id": r.endpoint, "sent_at": rfc3339(r.sent_ms), "started_at": rfc3339(r.sent_ms + 200), "ended_at": rfc3339(r.sent_ms + 1000), "status_code": 200, "duration": 0.8 });
            if payloads {
                v["json_input"] = r.input.clone();
                v["json_output"] = json!({});
            }
            v
        })
        .collect();
    let has_more = (page + 1) * 2 < ended.len();
    Json(json!({ "items": items, "next_cursor": has_more.then(|| (page + 1).to_string()), "has_more": has_more })).into_response()
}
