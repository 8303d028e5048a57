//! fal's queue (<https://docs.fal.ai/model-endpoints/queue>): submit to
//! `queue.fal.run/{model}`, then follow the `status_url`, `response_url` and
//! `cancel_url` the queue returns. After a restart the request's URLs are rebuilt from the
//! model's app id (`owner/app`, without a sub-path), as fal documents them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{first_url, template, tqdm_progress, Backend, RemoteRequest};
use crate::providers::{JobCtx, JobRef, JobState, MediaModel, MediaRef, Produced, ProviderError, Submitted};

#[derive(Debug, Clone, Deserialize)]
struct Urls {
    status_url: String,
    response_url: String,
    cancel_url: String,
}

#[derive(Debug, Deserialize)]
struct Queued {
    request_id: String,
    #[serde(flatten)]
    urls: Urls,
}

#[derive(Debug, Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    queue_position: Option<u32>,
    #[serde(default)]
    logs: Option<Vec<Log>>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Log {
    #[serde(default)]
    message: String,
}

/// A page of the platform API's `GET /models/requests/by-endpoint` (ended requests, with
/// their inputs when `expand=payloads`).
#[derive(Debug, Deserialize)]
struct RequestPage {
    #[serde(default)]
    items: Vec<ListedRequest>,
    #[serde(default)]
    next_cursor: Option<String>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Debug, Deserialize)]
struct ListedRequest {
    request_id: String,
    #[serde(default)]
    json_input: Value,
}

/// The platform API when none is configured.
const PLATFORM_URL: &str = "https://api.fal.ai/v1";
/// How long `find` waits for a cut-off request to end (and so be listed) when unset.
const FIND_WAIT_S: u64 = 300;

/// One fal model (`fal-ai/kling-video/v2.1/standard/image-to-video`) in one role.
pub struct Fal {
    pub backend: Arc<Backend>,
    pub model: String,
    urls: Mutex<HashMap<String, Urls>>,
}

impl Fal {
    pub fn new(backend: Arc<Backend>, model: String) -> Fal {
        Fal { backend, model, urls: Mutex::new(HashMap::new()) }
    }

    /// The request's URLs: as the queue returned them, else rebuilt (after a restart).
    fn urls(&self, id: &str) -> Urls {
        if let Some(u) = self.urls.lock().expect("fal url map").get(id) {
            return u.clone();
        }
        let app: Vec<&str> = self.model.split('/').take(2).collect();
        let base = self.backend.api.url(&format!("{}/requests/{id}", app.join("/")));
        Urls { status_url: format!("{base}/status"), response_url: base.clone(), cancel_url: format!("{base}/cancel") }
    }

    async fn poll(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.backend.ready()?;
        let api = &self.backend.api;
        let urls = self.urls(&job.remote_id);
        let s: Status = api.json(api.request(Method::GET, &urls.status_url).query(&[("logs", "1")])).await?;
        if let Some(err) = s.error.filter(|e| !e.is_empty()) {
            let kind = s.error_type.unwrap_or_default();
            if kind.contains("content_policy") || err.to_ascii_lowercase().contains("content policy") {
                return Err(ProviderError::ContentFiltered(format!("fal request {}: {err}", job.remote_id)));
            }
            return Ok(JobState::Failed(format!("fal request {}: {err}", job.remote_id)));
        }
        Ok(match s.status.as_str() {
            "IN_QUEUE" => JobState::Queued { position: s.queue_position },
            "IN_PROGRESS" => {
                let logs: Vec<String> = s.logs.unwrap_or_default().into_iter().map(|l| l.message).collect();
                JobState::Running { progress: tqdm_progress(&logs.join("\n")) }
            }
            "COMPLETED" => JobState::Succeeded(self.result(&urls.response_url, &job.remote_id).await?),
            "CANCELED" | "CANCELLED" => JobState::Canceled,
            "FAILED" => JobState::Failed(format!("fal request {} failed", job.remote_id)),
            other => return Err(ProviderError::Protocol(format!("fal request {} has an unknown status \"{other}\"", job.remote_id))),
        })
    }

    /// What admint sends for `req`: the template filled, the image as a data URI.
    fn body<R: RemoteRequest>(&self, req: &R) -> Result<Value, ProviderError> {
        let image = match req.input_image() {
            Some(path) => Value::String(super::image_data_uri(path)?),
            None => Value::Null,
        };
        let id = MediaModel::<R>::id(self);
        let tpl = self.backend.inputs.template(&id, "fal", R::WHAT);
        template::fill(&tpl, &req.vars(image)).map_err(|e| ProviderError::Config(format!("inputs for {id}: {e}")))
    }

    /// One pass over the requests fal lists for this endpoint since `start`: the first
    /// whose input holds everything in `want`.
    async fn listed(&self, want: &Value, start: &str) -> Result<Option<String>, ProviderError> {
        let api = &self.backend.api;
        let platform = match self.backend.settings.platform_url.trim_end_matches('/') {
            "" => PLATFORM_URL,
            url => url,
        };
        let url = format!("{platform}/models/requests/by-endpoint");
        let mut cursor: Option<String> = None;
        for _ in 0..super::FIND_PAGES {
            let mut query = vec![("endpoint_id", self.model.clone()), ("start", start.to_string()), ("expand", "payloads".into()), ("limit", "100".into())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            // The platform API is fal's own host: the key goes with it.
            let page: RequestPage = api.retrying("list requests", || api.json(api.request_with_auth(Method::GET, &url).query(&query))).await?;
            if let Some(r) = page.items.into_iter().find(|r| super::holds_input(want, &r.json_input)) {
                return Ok(Some(r.request_id));
            }
            match page.next_cursor.filter(|_| page.has_more) {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(None)
    }

    async fn result(&self, url: &str, id: &str) -> Result<Produced, ProviderError> {
        let api = &self.backend.api;
        let v: Value = api.retrying("result", || api.json(api.request(Method::GET, url))).await?;
        if v.get("has_nsfw_concepts").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x.as_bool() == Some(true))) {
            return Err(ProviderError::ContentFiltered(format!("fal request {id}: the safety checker flagged the output")));
        }
        let pick = v.get("video").or_else(|| v.get("images")).or_else(|| v.get("image")).or_else(|| v.get("audio")).unwrap_or(&v);
        let url = first_url(pick).ok_or_else(|| ProviderError::Protocol(format!("fal request {id} finished with no file in its result")))?;
        Ok(Produced::new(MediaRef::Url(url)))
    }
}

#[async_trait]
impl<R: RemoteRequest> MediaModel<R> for Fal {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn submit(&self, req: &R, _ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        self.backend.ready()?;
        let id = MediaModel::<R>::id(self);
        let body = self.body(req)?;
        let api = &self.backend.api;
        // Adding to the queue starts a paid job: sent once, never retried.
        let q: Queued = api.json(api.request(Method::POST, &self.model).json(&body)).await?;
        self.urls.lock().expect("fal url map").insert(q.request_id.clone(), q.urls);
        Ok(Submitted::Pending(JobRef { provider: id, remote_id: q.request_id }))
    }
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.poll(job).await
    }
    /// fal's platform API lists an endpoint's requests with their inputs — once they have
    /// ended. A cut-off request is the one on this endpoint, sent since the submission
    /// was recorded, whose input holds everything admint sends; it is looked for until
    /// `find_wait_s` after the submission (it may still be queued or running).
    async fn find(&self, req: &R, since_ms: u64) -> Result<Option<JobRef>, ProviderError> {
        self.backend.ready()?;
        let want = self.body(req)?;
        let start = super::rfc3339(since_ms.saturating_sub(60_000));
        let wait_s = match self.backend.settings.find_wait_s {
            0 => FIND_WAIT_S,
            s => s,
        };
        let deadline_ms = since_ms + wait_s * 1000;
        loop {
            if let Some(remote_id) = self.listed(&want, &start).await? {
                return Ok(Some(JobRef { provider: MediaModel::<R>::id(self), remote_id }));
            }
            if crate::domain::now_ms() >= deadline_ms {
                return Ok(None);
            }
            tracing::info!(model = %self.model, "a cut-off fal request is not listed yet; looking again");
            tokio::time::sleep(self.backend.poll_interval(1000).max(Duration::from_millis(200))).await;
        }
    }
    fn can_find(&self) -> bool {
        true
    }
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError> {
        let api = &self.backend.api;
        let url = self.urls(&job.remote_id).cancel_url;
        let r = api.retrying("cancel", || async { api.send(api.request(Method::PUT, &url)).await.map(|_| ()) }).await;
        match r {
            // 400 ALREADY_COMPLETED: nothing left to stop.
            Err(ProviderError::InvalidRequest(_)) => Ok(()),
            other => other,
        }
    }
    async fn fetch(&self, media: MediaRef, ctx: &JobCtx) -> Result<MediaRef, ProviderError> {
        self.backend.fetch(media, R::KIND, &ctx.work_dir, false).await
    }
    fn poll_interval(&self) -> Duration {
        self.backend.poll_interval(1000)
    }
    fn estimate_usd(&self, req: &R) -> Option<f64> {
        let sent = req.sent(&self.backend.inputs, &MediaModel::<R>::id(self), "fal");
        self.backend.estimate(&self.model, |p| req.cost(p, &sent))
    }
    fn limiter(&self) -> Option<Arc<Semaphore>> {
        Some(self.backend.limiter.clone())
    }
}

/// fal's queue: images and videos; keys as `Authorization: Key …`. The queue host has no
/// free endpoint to check a key with.
pub static PROTOCOL: super::Protocol = super::Protocol {
    auth: crate::providers::http::Auth::Key,
    check_path: None,
    chat: None,
    vision: None,
    image: Some(|backend, model, _| Ok(Arc::new(Fal::new(backend, model)))),
    video: Some(|backend, model, _| Ok(Arc::new(Fal::new(backend, model)))),
    speech: None,
    transcription: None,
    music: Some(|backend, model, _| Ok(Arc::new(Fal::new(backend, model)))),
};
