//! ComfyUI on the operator's own GPU box (<https://docs.comfy.org/development/comfyui-server/comms_routes>).
//!
//! A workflow template (API format) is filled in and queued on `POST /prompt` with a
//! `prompt_id` derived from what is sent — the task's key, the box, and the rendered
//! workflow itself, every node and value — so a crash between the request and its record
//! can never queue it twice (before queueing, `/history` and `/queue` are asked whether
//! that id is already there), and an edited workflow file is a new prompt. The model's
//! id carries a digest of the workflow file too (`comfyui:svd@1a2b3c4d`), so cached
//! results of the old file are not taken for the new one. Progress comes from the `/ws`
//! messages (each node's value/max, combined over the workflow's nodes); `/history`
//! polling finds the result either way, and `/view` serves it. Cancel interrupts the run
//! and deletes it from the queue; a prompt that was interrupted, or that the box no
//! longer knows, is `JobGone` (submit again), not a failure of the request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use super::{template, Backend, RemoteRequest};
use crate::providers::http::MediaKind;
use crate::providers::{JobCtx, JobRef, JobState, MediaModel, MediaRef, Produced, ProviderError, Submitted};

/// What the websocket has told about one prompt.
#[derive(Debug, Default)]
struct Tracker {
    total: usize,
    done: HashSet<String>,
    current: Option<(String, f32)>,
    finished: bool,
}

impl Tracker {
    fn fraction(&self) -> Option<f32> {
        if self.finished {
            return Some(0.99);
        }
        let cur = self.current.as_ref().map_or(0.0, |(_, f)| *f);
        match self.total {
            0 => self.current.as_ref().map(|(_, f)| *f),
            n => Some(((self.done.len() as f32 + cur) / n as f32).clamp(0.0, 0.99)),
        }
    }
}

type Trackers = Arc<Mutex<HashMap<String, Tracker>>>;

/// One workflow on one ComfyUI box.
pub struct ComfyUi {
    pub backend: Arc<Backend>,
    pub workflow_name: String,
    workflow: Value,
    /// The first 8 hex digits of the workflow template's sha256.
    digest: String,
    client_id: String,
    trackers: Trackers,
    ws_started: Mutex<bool>,
}

/// A ComfyUI prompt id for a task key: a UUID, the same for the same key.
pub fn prompt_id_for(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ComfyUi {
    pub fn new(backend: Arc<Backend>, workflow_name: String, workflow: Value) -> ComfyUi {
        let digest = {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(serde_json::to_vec(&workflow).unwrap_or_default()))[..8].to_string()
        };
        ComfyUi { backend, workflow_name, workflow, digest, client_id: uuid::Uuid::new_v4().to_string(), trackers: Arc::default(), ws_started: Mutex::new(false) }
    }

    /// Listen to `/ws` for progress, once, reconnecting while this model lives. Without a
    /// websocket (a proxy that does not pass it), `/history` polling still finds results.
    fn listen(&self) {
        let mut started = lock(&self.ws_started);
        if *started {
            return;
        }
        *started = true;
        let base = self.backend.api.base().to_string();
        let url = format!("{}/ws?clientId={}", base.replacen("http", "ws", 1), self.client_id);
        let headers = self.backend.api.auth.headers();
        let trackers = Arc::downgrade(&self.trackers);
        tokio::spawn(async move {
            use tokio_tungstenite::tungstenite::client::IntoClientRequest;
            loop {
                let Some(t) = trackers.upgrade() else { return };
                drop(t);
                let Ok(mut req) = url.as_str().into_client_request() else { return };
                for (k, v) in &headers {
                    if let (Ok(name), Ok(value)) = (k.parse::<tokio_tungstenite::tungstenite::http::HeaderName>(), v.parse()) {
                        req.headers_mut().insert(name, value);
                    }
                }
                match tokio_tungstenite::connect_async(req).await {
                    Ok((mut ws, _)) => {
                        while let Some(Ok(msg)) = ws.next().await {
                            let Some(t) = trackers.upgrade() else { return };
                            if let Ok(text) = msg.into_text() {
                                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                                    on_message(&t, &v);
                                }
                            }
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "ComfyUI websocket unavailable; polling /history instead"),
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }

    async fn get(&self, path: &str) -> Result<Value, ProviderError> {
        let api = &self.backend.api;
        api.retrying("comfyui poll", || api.json::<Value>(api.request(Method::GET, path))).await
    }

    /// Where a prompt stands in `/queue`: `Some(None)` running, `Some(Some(n))` n-th
    /// waiting, `None` not there.
    async fn in_queue(&self, id: &str) -> Result<Option<Option<u32>>, ProviderError> {
        let q = self.get("queue").await?;
        let has = |item: &Value| item.get(1).and_then(Value::as_str) == Some(id);
        if q["queue_running"].as_array().is_some_and(|r| r.iter().any(has)) {
            return Ok(Some(None));
        }
        Ok(q["queue_pending"].as_array().and_then(|p| p.iter().position(has)).map(|n| Some(n as u32)))
    }

    async fn history(&self, id: &str) -> Result<Option<Value>, ProviderError> {
        let h = self.get(&format!("history/{id}")).await?;
        Ok(h.get(id).cloned())
    }

    /// Put the keyframe on the box; returns the name `LoadImage` takes.
    async fn upload(&self, path: &std::path::Path) -> Result<String, ProviderError> {
        let data = tokio::fs::read(path).await?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("png").to_string();
        let digest = { use sha2::{Digest, Sha256}; hex::encode(Sha256::digest(&data)) };
        let name = format!("admint-{}.{ext}", &digest[..16]);
        let api = &self.backend.api;
        let v: Value = api
            .retrying("comfyui upload", || {
                let part = reqwest::multipart::Part::bytes(data.clone()).file_name(name.clone()).mime_str("image/png").expect("static mime");
                let form = reqwest::multipart::Form::new().part("image", part).text("overwrite", "true").text("type", "input");
                api.json(api.request(Method::POST, "upload/image").multipart(form))
            })
            .await?;
        let file = v["name"].as_str().ok_or_else(|| ProviderError::Protocol(format!("{}: the upload answer has no name: {v}", api.name)))?;
        Ok(match v["subfolder"].as_str().filter(|s| !s.is_empty()) {
            Some(sub) => format!("{sub}/{file}"),
            None => file.to_string(),
        })
    }

    /// The result of a finished history entry: the first output file of the kind asked for.
    fn outcome(&self, id: &str, entry: &Value, want: MediaKind) -> Result<JobState<Produced>, ProviderError> {
        let status = &entry["status"];
        if status["status_str"] == "error" {
            let msgs = status["messages"].as_array().cloned().unwrap_or_default();
            let why = msgs
                .iter()
                .find_map(|m| match (m.get(0).and_then(Value::as_str), m.get(1)) {
                    (Some("execution_error"), Some(d)) => Some(format!("{} in node {} ({})", d["exception_message"].as_str().unwrap_or("error").trim(), d["node_id"].as_str().unwrap_or("?"), d["node_type"].as_str().unwrap_or("?"))),
                    _ => None,
                })
                .unwrap_or_else(|| "the workflow failed".into());
            let interrupted = msgs.iter().any(|m| m.get(0).and_then(Value::as_str) == Some("execution_interrupted"));
            if interrupted {
                return Ok(JobState::Canceled);
            }
            return Ok(JobState::Failed(format!("ComfyUI prompt {id}: {why}")));
        }
        let video_ext = ["mp4", "webm", "mov", "gif", "webp"];
        let image_ext = ["png", "jpg", "jpeg", "webp"];
        let mut files = Vec::new();
        for node in entry["outputs"].as_object().into_iter().flat_map(|o| o.values()) {
            for key in ["videos", "gifs", "images"] {
                for f in node[key].as_array().into_iter().flatten() {
                    if let Some(name) = f["filename"].as_str() {
                        files.push((name.to_string(), f["subfolder"].as_str().unwrap_or("").to_string(), f["type"].as_str().unwrap_or("output").to_string()));
                    }
                }
            }
        }
        let ext_of = |n: &str| n.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        let pick = files.iter().filter(|(_, _, t)| t == "output").find(|(n, _, _)| match want {
            MediaKind::Video => video_ext.contains(&ext_of(n).as_str()),
            MediaKind::Image => image_ext.contains(&ext_of(n).as_str()),
            MediaKind::Audio => ["wav", "mp3", "flac", "ogg"].contains(&ext_of(n).as_str()),
        });
        let Some((name, sub, kind)) = pick else {
            return Err(ProviderError::Protocol(format!("ComfyUI prompt {id} finished without {} among its outputs ({} files)", want.name(), files.len())));
        };
        let q = serde_urlencoded(&[("filename", name), ("subfolder", sub), ("type", kind)]);
        Ok(JobState::Succeeded(Produced::new(MediaRef::Url(self.backend.api.url(&format!("view?{q}"))))))
    }

    async fn poll(&self, job: &JobRef, want: MediaKind) -> Result<JobState<Produced>, ProviderError> {
        self.backend.ready()?;
        self.listen();
        let id = &job.remote_id;
        if let Some(entry) = self.history(id).await? {
            return self.outcome(id, &entry, want);
        }
        match self.in_queue(id).await? {
            Some(None) => Ok(JobState::Running { progress: lock(&self.trackers).get(id).and_then(Tracker::fraction) }),
            Some(Some(n)) => Ok(JobState::Queued { position: Some(n) }),
            None => match self.history(id).await? {
                // It finished between the two questions.
                Some(entry) => self.outcome(id, &entry, want),
                None => Err(ProviderError::JobGone(format!(
                    "ComfyUI prompt {id} is neither queued nor in the history of {} (was the box restarted?)",
                    self.backend.api.base()
                ))),
            },
        }
    }
}

/// `a=b&c=d` with percent-encoding.
fn serde_urlencoded(pairs: &[(&str, &String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn on_message(trackers: &Trackers, v: &Value) {
    let data = &v["data"];
    let Some(id) = data["prompt_id"].as_str() else { return };
    let mut all = lock(trackers);
    let t = all.entry(id.to_string()).or_default();
    match v["type"].as_str().unwrap_or("") {
        "execution_cached" => t.done.extend(data["nodes"].as_array().into_iter().flatten().filter_map(|n| n.as_str().map(str::to_string))),
        "executing" => {
            if let Some((prev, _)) = t.current.take() {
                t.done.insert(prev);
            }
            match data["node"].as_str() {
                Some(node) => t.current = Some((node.to_string(), 0.0)),
                None => t.finished = true,
            }
        }
        "progress" => {
            let (value, max) = (data["value"].as_f64().unwrap_or(0.0), data["max"].as_f64().unwrap_or(0.0));
            if let (Some(node), true) = (data["node"].as_str(), max > 0.0) {
                t.current = Some((node.to_string(), (value / max) as f32));
            }
        }
        "execution_success" => t.finished = true,
        _ => {}
    }
}

#[async_trait]
impl<R: RemoteRequest> MediaModel<R> for ComfyUi {
    fn id(&self) -> String {
        self.backend.model_id(&format!("{}@{}", self.workflow_name, self.digest))
    }
    async fn submit(&self, req: &R, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        self.backend.ready()?;
        self.listen();
        // The upload is named by the image's digest: repeating it changes nothing.
        let image = match req.input_image() {
            Some(p) => json!(self.upload(p).await?),
            None => Value::Null,
        };
        let workflow = template::fill(&self.workflow, &req.vars(image)).map_err(|e| ProviderError::Config(format!("workflow {}: {e}", self.workflow_name)))?;
        let prompt_id = prompt_id_for(&format!("{}\n{}\n{}", ctx.idempotency_key, self.backend.api.base(), workflow));
        let pending = Submitted::Pending(JobRef { provider: MediaModel::<R>::id(self), remote_id: prompt_id.clone() });
        // Queued before a crash? Then this is the same job: re-attach, never queue twice.
        if self.history(&prompt_id).await?.is_some() || self.in_queue(&prompt_id).await?.is_some() {
            return Ok(pending);
        }
        lock(&self.trackers).entry(prompt_id.clone()).or_default().total = workflow.as_object().map_or(0, |o| o.len());
        let api = &self.backend.api;
        let body = json!({ "prompt": workflow, "client_id": self.client_id, "prompt_id": prompt_id });
        let resp = api.request(Method::POST, "prompt").json(&body).send().await.map_err(|e| api.transport(e))?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if status.as_u16() == 400 {
            return Err(ProviderError::InvalidRequest(format!("{} rejected workflow {}: {}", api.name, self.workflow_name, node_errors(&v))));
        }
        if !status.is_success() {
            return Err(api.classify(status, None, "application/json", &v.to_string()));
        }
        if v["prompt_id"].as_str() != Some(prompt_id.as_str()) {
            return Err(ProviderError::Protocol(format!(
                "{} queued the workflow as {} instead of {prompt_id}: this ComfyUI is too old to take a client prompt_id; update it",
                api.name, v["prompt_id"]
            )));
        }
        Ok(pending)
    }
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.poll(job, R::KIND).await
    }
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError> {
        let api = &self.backend.api;
        let id = job.remote_id.clone();
        if let Ok(Some(None)) = self.in_queue(&id).await {
            api.retrying("comfyui interrupt", || async { api.send(api.request(Method::POST, "interrupt").json(&json!({ "prompt_id": id }))).await.map(|_| ()) }).await?;
        }
        api.retrying("comfyui delete", || async { api.send(api.request(Method::POST, "queue").json(&json!({ "delete": [id] }))).await.map(|_| ()) }).await
    }
    async fn fetch(&self, media: MediaRef, ctx: &JobCtx) -> Result<MediaRef, ProviderError> {
        self.backend.fetch(media, R::KIND, &ctx.work_dir, false).await
    }
    fn poll_interval(&self) -> Duration {
        self.backend.poll_interval(1000)
    }
    fn estimate_usd(&self, req: &R) -> Option<f64> {
        self.backend.estimate(&self.workflow_name, |p| req.cost(p, &Value::Null))
    }
    fn limiter(&self) -> Option<Arc<Semaphore>> {
        Some(self.backend.limiter.clone())
    }
}

/// The box's node types and, for each input with a fixed list of choices (model files,
/// samplers), those choices: `GET /object_info`, for `doctor`.
pub async fn object_info(backend: &Backend) -> Result<Value, ProviderError> {
    let api = &backend.api;
    api.retrying("comfyui object_info", || api.json::<Value>(api.request(Method::GET, "object_info").timeout(Duration::from_secs(30)))).await
}

/// The choices an input spec from `/object_info` allows, when it is a list of choices:
/// `[["a", "b"], {…}]`, or the newer `["COMBO", {"options": ["a", "b"]}]`.
fn choices(spec: &Value) -> Option<Vec<&str>> {
    fn strings(v: &Value) -> Option<Vec<&str>> {
        v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect())
    }
    match spec.get(0)? {
        Value::Array(_) => strings(&spec[0]),
        Value::String(s) if s == "COMBO" => strings(&spec[1]["options"]),
        _ => None,
    }
}

/// What a workflow needs that the box lacks, one line each: node types it does not have,
/// and fixed values (model files above all) that are not among an input's choices —
/// what ComfyUI's own validation would reject at the first clip. Placeholders (`{seed}`)
/// are filled per job and not checked.
pub fn workflow_problems(workflow: &Value, info: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (node, n) in workflow.as_object().into_iter().flatten().filter(|(k, _)| !k.starts_with('_')) {
        let class = n["class_type"].as_str().unwrap_or("?");
        let Some(spec) = info.get(class) else {
            out.push(format!("node {node}: the box has no node type {class} (install the custom node that provides it, or update ComfyUI)"));
            continue;
        };
        for (input, value) in n["inputs"].as_object().into_iter().flatten() {
            let Some(v) = value.as_str().filter(|v| !v.contains('{')) else { continue };
            let allowed = ["required", "optional"].iter().find_map(|group| spec["input"][group].get(input)).and_then(choices);
            if let Some(allowed) = allowed {
                if !allowed.contains(&v) {
                    let shown: Vec<&str> = allowed.iter().take(5).copied().collect();
                    let more = if allowed.len() > 5 { format!(" and {} more", allowed.len() - 5) } else { String::new() };
                    let list = if allowed.is_empty() { "none".to_string() } else { format!("{}{more}", shown.join(", ")) };
                    out.push(format!("node {node} ({class}): {input} \"{v}\" is not on the box (it has: {list})"));
                }
            }
        }
    }
    out
}

/// ComfyUI's validation answer, as one line per broken node.
fn node_errors(v: &Value) -> String {
    let mut out: Vec<String> = Vec::new();
    if let Some(m) = v["error"]["message"].as_str() {
        out.push(m.to_string());
    }
    for (node, e) in v["node_errors"].as_object().into_iter().flatten() {
        let errs: Vec<String> = e["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| format!("{} {}", x["message"].as_str().unwrap_or(""), x["details"].as_str().unwrap_or("")).trim().to_string())
            .collect();
        out.push(format!("node {node} ({}): {}", e["class_type"].as_str().unwrap_or("?"), errs.join("; ")));
    }
    if out.is_empty() {
        v.to_string()
    } else {
        out.join("; ")
    }
}

/// A workflow by name, from `templates/comfyui/` or the user's overrides.
fn workflow(backend: Arc<Backend>, name: String, kit: &super::ModelKit) -> Result<ComfyUi, ProviderError> {
    let (workflow, _) = kit.resources.comfy_workflow(&name).map_err(|e| ProviderError::Config(format!("{}: {e}", backend.name)))?;
    Ok(ComfyUi::new(backend, name, workflow))
}

/// A ComfyUI box: images and videos from workflows (the model name is the workflow's);
/// no key, or a bearer token for a box behind a proxy.
pub static PROTOCOL: super::Protocol = super::Protocol {
    auth: crate::providers::http::Auth::Bearer,
    check_path: Some("system_stats"),
    chat: None,
    vision: None,
    image: Some(|b, model, kit| Ok(Arc::new(workflow(b, model, kit)?))),
    video: Some(|b, model, kit| Ok(Arc::new(workflow(b, model, kit)?))),
    speech: None,
    transcription: None,
    music: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workflow_is_checked_against_the_boxs_nodes_and_files() {
        let wf = json!({
            "_meta": "ignored",
            "1": { "class_type": "UNETLoader", "inputs": { "unet_name": "wan.safetensors", "weight_dtype": "default" } },
            "2": { "class_type": "KSampler", "inputs": { "seed": "{seed}", "sampler_name": "uni_pc" } },
            "3": { "class_type": "WanImageToVideo", "inputs": { "length": "{frames}" } }
        });
        let info = json!({
            "UNETLoader": { "input": { "required": { "unet_name": [["other.safetensors"], {}], "weight_dtype": ["COMBO", { "options": ["default", "fp8"] }] } } },
            "KSampler": { "input": { "required": { "seed": ["INT", {}], "sampler_name": [["euler", "uni_pc"], {}] } } }
        });
        let p = workflow_problems(&wf, &info);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("node 1 (UNETLoader): unet_name \"wan.safetensors\" is not on the box (it has: other.safetensors)"), "{p:?}");
        assert!(p[1].contains("no node type WanImageToVideo"), "{p:?}");
    }
}
