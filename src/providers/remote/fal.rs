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
        let image = match req.input_image() {
            Some(path) => Value::String(super::image_data_uri(path)?),
            None => Value::Null,
        };
        let id = MediaModel::<R>::id(self);
        let tpl = self.backend.inputs.template(&id, "fal", R::WHAT);
        let body = template::fill(&tpl, &req.vars(image)).map_err(|e| ProviderError::Config(format!("inputs for {id}: {e}")))?;
        let api = &self.backend.api;
        // Adding to the queue starts a paid job: sent once, never retried.
        let q: Queued = api.json(api.request(Method::POST, &self.model).json(&body)).await?;
        self.urls.lock().expect("fal url map").insert(q.request_id.clone(), q.urls);
        Ok(Submitted::Pending(JobRef { provider: id, remote_id: q.request_id }))
    }
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.poll(job).await
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
