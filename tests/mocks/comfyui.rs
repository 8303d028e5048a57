//! A ComfyUI server as its routes behave (`server.py`): `POST /prompt` validates the
//! workflow (400 with `node_errors`) and takes a client `prompt_id`; `/queue` lists
//! running and pending prompts and deletes on request; `/history/{id}` is `{}` until the
//! prompt finishes; `/upload/image` stores inputs; `/view` serves outputs; `/interrupt`
//! stops the running prompt; `/ws?clientId=` sends `execution_start`, `execution_cached`,
//! `executing`, `progress` and `executing {node: null}` to the client that queued it.
//! `/object_info` describes the box: the node types and model files the shipped
//! workflows use (a box set up for them), choices as lists of strings. `restart()` is
//! the box restarting: its queue and history are gone.
//!
//! `mode` picks the behaviour: `ok`, `error` (an execution error), `hold` (runs until
//! released or interrupted), `no-ws` (no websocket route, as behind some proxies),
//! `missing-model` (validation fails on the loader, and `/object_info` lists no UNet
//! files), `old-box` (no `WanImageToVideo` node type). `auth` makes it a box behind a proxy
//! that wants that `Authorization` header.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

#[derive(Default)]
pub struct Comfy {
    pub mode: Mutex<String>,
    pub auth: Option<String>,
    pub prompts: AtomicUsize,
    pub uploads: AtomicUsize,
    pub interrupts: AtomicUsize,
    pub deletes: AtomicUsize,
    pub ws_clients: AtomicUsize,
    pub release: AtomicBool,
    /// The prompt ids queued, in order.
    pub ids: Mutex<Vec<String>>,
    /// Workflows as queued.
    pub workflows: Mutex<Vec<Value>>,
    uploaded: Mutex<Vec<String>>,
    pending: Mutex<VecDeque<(String, String, Value)>>,
    running: Mutex<Option<(String, String, Value)>>,
    interrupted: AtomicBool,
    history: Mutex<HashMap<String, Value>>,
    sockets: Mutex<HashMap<String, UnboundedSender<String>>>,
}

impl Comfy {
    pub fn start(mode: &str, auth: Option<&str>) -> (Arc<Comfy>, String) {
        let me = Arc::new(Comfy { mode: Mutex::new(mode.into()), auth: auth.map(str::to_string), ..Default::default() });
        let mut app = Router::new()
            .route("/prompt", post(prompt))
            .route("/queue", get(queue).post(queue_delete))
            .route("/history/{id}", get(history))
            .route("/upload/image", post(upload))
            .route("/view", get(view))
            .route("/interrupt", post(interrupt))
            .route("/object_info", get(object_info))
            .route("/system_stats", get(system_stats));
        if mode != "no-ws" {
            app = app.route("/ws", get(ws));
        }
        let app = app.layer(axum::extract::DefaultBodyLimit::max(50 << 20)).with_state(me.clone());
        let base = super::serve(app);
        let worker = me.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(run_queue(worker));
        });
        (me, base)
    }

    fn denied(&self, h: &HeaderMap) -> Option<Response> {
        let want = self.auth.as_ref()?;
        let got = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        (got != Some(want.as_str())).then(|| (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "text/html")], "<html><body>401 Authorization Required</body></html>").into_response())
    }

    /// Whether a prompt is running now.
    pub fn queue_running(&self) -> bool {
        self.running.lock().unwrap().is_some()
    }

    /// The box restarts: what was queued, running or finished is forgotten.
    pub fn restart(&self) {
        self.pending.lock().unwrap().clear();
        self.interrupted.store(true, Ordering::SeqCst);
        self.history.lock().unwrap().clear();
    }

    fn send(&self, client: &str, msg: Value) {
        if let Some(tx) = self.sockets.lock().unwrap().get(client) {
            let _ = tx.send(msg.to_string());
        }
    }
}

/// The executor: one prompt at a time, telling its client how it goes.
async fn run_queue(m: Arc<Comfy>) {
    loop {
        let next = m.pending.lock().unwrap().pop_front();
        let Some((id, client, wf)) = next else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        *m.running.lock().unwrap() = Some((id.clone(), client.clone(), wf.clone()));
        m.interrupted.store(false, Ordering::SeqCst);
        let nodes: Vec<String> = wf.as_object().unwrap().keys().cloned().collect();
        let sampler = wf.as_object().unwrap().iter().find(|(_, n)| n["class_type"] == "KSampler").map(|(k, _)| k.clone()).unwrap_or_default();
        let say = |t: &str, data: Value| m.send(&client, json!({ "type": t, "data": data }));
        say("execution_start", json!({ "prompt_id": id, "timestamp": 1 }));
        let loaders: Vec<&String> = nodes.iter().filter(|n| wf[n.as_str()]["class_type"].as_str().unwrap_or("").ends_with("Loader") || wf[n.as_str()]["class_type"].as_str().unwrap_or("").ends_with("LoaderSimple")).collect();
        say("execution_cached", json!({ "nodes": loaders, "prompt_id": id, "timestamp": 2 }));
        let mode = m.mode.lock().unwrap().clone();
        let mut outcome = "success";
        'nodes: for node in nodes.iter().filter(|n| !loaders.contains(n)) {
            say("executing", json!({ "node": node, "display_node": node, "prompt_id": id }));
            if *node == sampler {
                let mut step = 0;
                loop {
                    if m.interrupted.load(Ordering::SeqCst) {
                        outcome = "interrupted";
                        break 'nodes;
                    }
                    if step < 4 {
                        step += 1;
                        say("progress", json!({ "value": step, "max": 4, "prompt_id": id, "node": node }));
                    } else if mode != "hold" || m.release.load(Ordering::SeqCst) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
                if mode == "error" {
                    outcome = "error";
                    break;
                }
            }
        }
        let entry = match outcome {
            "success" => {
                say("executing", json!({ "node": null, "prompt_id": id }));
                let video = wf.as_object().unwrap().values().any(|n| n["class_type"] == "SaveVideo");
                let (out_node, file) = if video { ("58", json!({ "filename": "clip_00001_.mp4", "subfolder": "admint", "type": "output" })) } else { ("9", json!({ "filename": "admint_00001_.png", "subfolder": "", "type": "output" })) };
                let mut outputs = json!({});
                outputs[out_node] = if video { json!({ "images": [file], "animated": [true] }) } else { json!({ "images": [file] }) };
                json!({ "prompt": [0, id, wf, {}, [out_node]], "outputs": outputs, "status": { "status_str": "success", "completed": true, "messages": [["execution_start", { "prompt_id": id }], ["execution_success", { "prompt_id": id }]] } })
            }
            "error" => {
                let d = json!({ "prompt_id": id, "node_id": sampler, "node_type": "KSampler", "exception_message": "Allocation on device 0 would exceed allowed memory. (out of memory)\n", "exception_type": "torch.OutOfMemoryError", "traceback": [] });
                say("execution_error", d.clone());
                json!({ "prompt": [0, id, wf, {}, []], "outputs": {}, "status": { "status_str": "error", "completed": false, "messages": [["execution_start", { "prompt_id": id }], ["execution_error", d]] } })
            }
            _ => {
                say("execution_interrupted", json!({ "prompt_id": id, "node_id": sampler }));
                json!({ "prompt": [0, id, wf, {}, []], "outputs": {}, "status": { "status_str": "error", "completed": false, "messages": [["execution_interrupted", { "prompt_id": id }]] } })
            }
        };
        m.history.lock().unwrap().insert(id.clone(), entry);
        *m.running.lock().unwrap() = None;
    }
}

async fn prompt(State(m): State<Arc<Comfy>>, h: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": { "type": "invalid_prompt", "message": "Cannot parse the request", "details": "", "extra_info": {} }, "node_errors": {} }))).into_response();
    };
    let Some(wf) = body["prompt"].as_object().cloned() else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": { "type": "no_prompt", "message": "No prompt provided", "details": "", "extra_info": {} }, "node_errors": {} }))).into_response();
    };
    let mut node_errors = serde_json::Map::new();
    for (id, node) in &wf {
        let mut errs = Vec::new();
        for (k, v) in node["inputs"].as_object().into_iter().flatten() {
            if let Some(s) = v.as_str() {
                if s.contains('{') && s.contains('}') && !k.starts_with("text") {
                    errs.push(json!({ "type": "invalid_input_type", "message": "Failed to convert an input value", "details": format!("{k}: '{s}'"), "extra_info": {} }));
                }
            }
        }
        if node["class_type"] == "LoadImage" {
            let name = node["inputs"]["image"].as_str().unwrap_or("").to_string();
            if !m.uploaded.lock().unwrap().contains(&name) {
                errs.push(json!({ "type": "custom_validation_failed", "message": "Custom validation failed for node", "details": format!("image - Invalid image file: {name}"), "extra_info": {} }));
            }
        }
        if node["class_type"] == "UNETLoader" && *m.mode.lock().unwrap() == "missing-model" {
            errs.push(json!({ "type": "value_not_in_list", "message": "Value not in list", "details": format!("unet_name: '{}' not in []", node["inputs"]["unet_name"].as_str().unwrap_or("")), "extra_info": {} }));
        }
        if !errs.is_empty() {
            node_errors.insert(id.clone(), json!({ "errors": errs, "dependent_outputs": [], "class_type": node["class_type"] }));
        }
    }
    if !node_errors.is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": { "type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "details": "", "extra_info": {} }, "node_errors": node_errors }))).into_response();
    }
    let id = body["prompt_id"].as_str().map(str::to_string).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let client = body["client_id"].as_str().unwrap_or("").to_string();
    let n = m.prompts.fetch_add(1, Ordering::SeqCst) + 1;
    m.ids.lock().unwrap().push(id.clone());
    m.workflows.lock().unwrap().push(Value::Object(wf.clone()));
    m.pending.lock().unwrap().push_back((id.clone(), client, Value::Object(wf)));
    Json(json!({ "prompt_id": id, "number": n, "node_errors": {} })).into_response()
}

fn entry(n: usize, item: &(String, String, Value)) -> Value {
    json!([n, item.0, item.2, { "client_id": item.1 }, []])
}

async fn queue(State(m): State<Arc<Comfy>>, h: HeaderMap) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let running: Vec<Value> = m.running.lock().unwrap().iter().map(|i| entry(0, i)).collect();
    let pending: Vec<Value> = m.pending.lock().unwrap().iter().enumerate().map(|(n, i)| entry(n + 1, i)).collect();
    Json(json!({ "queue_running": running, "queue_pending": pending })).into_response()
}

async fn queue_delete(State(m): State<Arc<Comfy>>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let ids: Vec<String> = body["delete"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect();
    m.deletes.fetch_add(1, Ordering::SeqCst);
    m.pending.lock().unwrap().retain(|(id, _, _)| !ids.contains(id));
    StatusCode::OK.into_response()
}

async fn history(State(m): State<Arc<Comfy>>, Path(id): Path<String>, h: HeaderMap) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let mut out = json!({});
    if let Some(e) = m.history.lock().unwrap().get(&id) {
        out[&id] = e.clone();
    }
    Json(out).into_response()
}

async fn upload(State(m): State<Arc<Comfy>>, h: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let text = String::from_utf8_lossy(&body);
    let Some(name) = text.split("name=\"image\"; filename=\"").nth(1).and_then(|r| r.split('"').next()).map(str::to_string) else {
        return (StatusCode::BAD_REQUEST, "no image").into_response();
    };
    m.uploads.fetch_add(1, Ordering::SeqCst);
    m.uploaded.lock().unwrap().push(name.clone());
    Json(json!({ "name": name, "subfolder": "", "type": "input" })).into_response()
}

async fn view(State(m): State<Arc<Comfy>>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let f = super::fixtures();
    match (q.get("filename").map(String::as_str), q.get("type").map(String::as_str)) {
        (Some("clip_00001_.mp4"), Some("output")) if q.get("subfolder").map(String::as_str) == Some("admint") => (StatusCode::OK, [(header::CONTENT_TYPE, "video/mp4")], f.mp4.clone()).into_response(),
        (Some("admint_00001_.png"), Some("output")) => (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], f.png.clone()).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn interrupt(State(m): State<Arc<Comfy>>, h: HeaderMap) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    m.interrupts.fetch_add(1, Ordering::SeqCst);
    m.interrupted.store(true, Ordering::SeqCst);
    StatusCode::OK.into_response()
}

async fn ws(State(m): State<Arc<Comfy>>, h: HeaderMap, Query(q): Query<HashMap<String, String>>, up: WebSocketUpgrade) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let client = q.get("clientId").cloned().unwrap_or_default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    m.sockets.lock().unwrap().insert(client.clone(), tx);
    m.ws_clients.fetch_add(1, Ordering::SeqCst);
    up.on_upgrade(move |mut socket| async move {
        let hello = json!({ "type": "status", "data": { "status": { "exec_info": { "queue_remaining": 0 } }, "sid": client } });
        let _ = socket.send(Message::Text(hello.to_string().into())).await;
        while let Some(text) = rx.recv().await {
            if socket.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    })
}

/// The node types of the shipped workflows, each fixed string input a list of choices
/// that holds the shipped value and one other.
async fn object_info(State(m): State<Arc<Comfy>>, h: HeaderMap) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    let mode = m.mode.lock().unwrap().clone();
    let mut info = serde_json::Map::new();
    for text in [include_str!("../../templates/comfyui/wan-i2v.json"), include_str!("../../templates/comfyui/sdxl-t2i.json")] {
        let wf: Value = serde_json::from_str(text).unwrap();
        for (_, node) in wf.as_object().unwrap().iter().filter(|(k, _)| !k.starts_with('_')) {
            let class = node["class_type"].as_str().unwrap().to_string();
            if mode == "old-box" && class == "WanImageToVideo" {
                continue;
            }
            let entry = info.entry(class.clone()).or_insert_with(|| json!({ "input": { "required": {} }, "output": [], "name": class, "category": "admint-mock" }));
            for (input, value) in node["inputs"].as_object().unwrap() {
                let spec = match value.as_str() {
                    Some(v) if !v.contains('{') => {
                        // Both workflows' values (KSampler is in both), and one more.
                        let mut options: Vec<String> = entry["input"]["required"][input][0].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_else(|| vec!["another-choice".to_string()]);
                        if !options.contains(&v.to_string()) {
                            options.insert(0, v.to_string());
                        }
                        if mode == "missing-model" && input == "unet_name" {
                            options.clear();
                        }
                        json!([options, {}])
                    }
                    _ => json!(["STRING", {}]),
                };
                entry["input"]["required"][input] = spec;
            }
        }
    }
    Json(Value::Object(info)).into_response()
}

async fn system_stats(State(m): State<Arc<Comfy>>, h: HeaderMap) -> Response {
    if let Some(r) = m.denied(&h) {
        return r;
    }
    Json(json!({
        "system": { "os": "posix", "ram_total": 33_554_432_000u64, "ram_free": 20_000_000_000u64, "comfyui_version": "0.3.43", "python_version": "3.12.3", "pytorch_version": "2.7.1+cu128", "embedded_python": false, "argv": ["main.py", "--listen"] },
        "devices": [{ "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "type": "cuda", "index": 0, "vram_total": 25_393_692_672u64, "vram_free": 24_000_000_000u64, "torch_vram_total": 0, "torch_vram_free": 0 }]
    }))
    .into_response()
}
