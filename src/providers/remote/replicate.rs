//! Replicate predictions (<https://replicate.com/docs/reference/http>): official models by
//! `owner/name`, community models by `owner/name:version`. Creation waits with
//! `Prefer: wait` and falls back to polling; progress comes from the tqdm lines in `logs`;
//! outputs are downloaded at once (Replicate deletes them after an hour).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{first_url, template, tqdm_progress, Backend, RemoteRequest};
use crate::providers::pricing::Cost;
use crate::providers::{JobCtx, JobRef, JobState, MediaModel, MediaRef, Produced, ProviderError, Submitted};

/// Files up to this size go inline as data URIs; larger ones are uploaded.
const DATA_URI_MAX: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
pub struct Prediction {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub output: Value,
    #[serde(default)]
    pub error: Value,
    #[serde(default)]
    pub logs: Option<String>,
    #[serde(default)]
    pub metrics: Value,
    #[serde(default)]
    pub data_removed: bool,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub input: Value,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: String,
}

/// `GET /v1/predictions`: the account's predictions, newest first, a page at a time.
#[derive(Debug, Deserialize)]
struct PredictionPage {
    #[serde(default)]
    next: Option<String>,
    results: Vec<Prediction>,
}

/// One Replicate model in one role.
pub struct Replicate {
    pub backend: Arc<Backend>,
    /// `owner/name` or `owner/name:version`.
    pub model: String,
}

impl Replicate {
    fn create_path(&self) -> (String, Option<String>) {
        match self.model.split_once(':') {
            Some((_, version)) => ("v1/predictions".into(), Some(version.to_string())),
            None => (format!("v1/models/{}/predictions", self.model), None),
        }
    }

    /// A local file as a model input: inline when small, else uploaded to Replicate.
    async fn file_input(&self, path: &std::path::Path) -> Result<Value, ProviderError> {
        let size = std::fs::metadata(path)?.len();
        if size <= DATA_URI_MAX {
            return Ok(json!(super::image_data_uri(path)?));
        }
        let data = tokio::fs::read(path).await?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("input.png").to_string();
        let api = &self.backend.api;
        #[derive(Deserialize)]
        struct Urls {
            get: String,
        }
        #[derive(Deserialize)]
        struct File {
            urls: Urls,
        }
        let file: File = api
            .retrying("upload", || {
                let part = reqwest::multipart::Part::bytes(data.clone()).file_name(name.clone()).mime_str("application/octet-stream").expect("static mime");
                let form = reqwest::multipart::Form::new().part("content", part);
                api.json(api.request(Method::POST, "v1/files").multipart(form))
            })
            .await?;
        Ok(json!(file.urls.get))
    }

    async fn create(&self, input: Value) -> Result<Submitted<Produced>, ProviderError> {
        self.backend.ready()?;
        let (path, version) = self.create_path();
        let mut body = json!({ "input": input });
        if let Some(v) = version {
            body["version"] = json!(v);
        }
        let api = &self.backend.api;
        let mut rb = api.request(Method::POST, &path).json(&body);
        // No long-held create by default: the id comes back at once, so a crash has only
        // the request itself to cut off (and `find` looks for that).
        let wait = self.backend.settings.wait_s.unwrap_or(0).min(60);
        if wait > 0 {
            rb = rb.header("Prefer", format!("wait={wait}")).timeout(Duration::from_secs(wait + 30));
        }
        // Creating a prediction costs money: sent once, never retried.
        let p: Prediction = api.json(rb).await?;
        let remote_id = p.id.clone();
        match self.state(p)? {
            JobState::Succeeded(out) => Ok(Submitted::Done(out)),
            JobState::Failed(m) => Err(ProviderError::JobFailed(m)),
            JobState::Canceled => Err(ProviderError::JobFailed(format!("prediction {remote_id} was cancelled"))),
            JobState::Queued { .. } | JobState::Running { .. } => Ok(Submitted::Pending(JobRef { provider: self.backend.model_id(&self.model), remote_id })),
        }
    }

    /// What a prediction says about the job.
    fn state(&self, p: Prediction) -> Result<JobState<Produced>, ProviderError> {
        Ok(match p.status.as_str() {
            "starting" => JobState::Queued { position: None },
            "processing" => JobState::Running { progress: p.logs.as_deref().and_then(tqdm_progress) },
            "succeeded" => {
                if p.data_removed {
                    return Err(ProviderError::JobFailed(format!("prediction {} succeeded but Replicate has deleted its output", p.id)));
                }
                let url = first_url(&p.output).ok_or_else(|| ProviderError::Protocol(format!("prediction {} succeeded with no file in its output: {}", p.id, p.output)))?;
                let cost = p
                    .metrics
                    .get("predict_time")
                    .and_then(Value::as_f64)
                    .and_then(|t| self.backend.price(&self.model).and_then(|pr| pr.predict(t)));
                JobState::Succeeded(Produced { media: MediaRef::Url(url), cost_usd: cost })
            }
            "failed" => {
                let msg = match &p.error {
                    Value::String(s) => s.clone(),
                    Value::Null => "no reason given".into(),
                    other => other.to_string(),
                };
                let lower = msg.to_ascii_lowercase();
                if ["nsfw", "sensitive", "safety", "content policy", "flagged"].iter().any(|w| lower.contains(w)) {
                    return Err(ProviderError::ContentFiltered(format!("prediction {}: {msg}", p.id)));
                }
                JobState::Failed(format!("prediction {}: {msg}", p.id))
            }
            "canceled" => JobState::Canceled,
            other => return Err(ProviderError::Protocol(format!("prediction {} has an unknown status \"{other}\"", p.id))),
        })
    }

    async fn poll(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.backend.ready()?;
        let api = &self.backend.api;
        let p: Prediction = api.json(api.request(Method::GET, &format!("v1/predictions/{}", job.remote_id))).await?;
        self.state(p)
    }

    async fn stop(&self, job: &JobRef) -> Result<(), ProviderError> {
        let api = &self.backend.api;
        api.retrying("cancel", || async { api.send(api.request(Method::POST, &format!("v1/predictions/{}/cancel", job.remote_id))).await.map(|_| ()) }).await
    }
}

#[async_trait]
impl<R: RemoteRequest> MediaModel<R> for Replicate {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }
    async fn submit(&self, req: &R, _ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        self.backend.ready()?;
        let image = match req.input_image() {
            Some(path) => self.file_input(path).await?,
            None => Value::Null,
        };
        let id = MediaModel::<R>::id(self);
        let tpl = self.backend.inputs.template(&id, "replicate", R::WHAT);
        let input = template::fill(&tpl, &req.vars(image)).map_err(|e| ProviderError::Config(format!("inputs for {id}: {e}")))?;
        self.create(input).await
    }
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.poll(job).await
    }
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError> {
        self.stop(job).await
    }
    /// Replicate lists predictions newest first: a cut-off create is the one on this model
    /// (or version) made since the submission was recorded whose input holds everything
    /// admint sends (an uploaded image's link cannot be known again, so it is left out).
    async fn find(&self, req: &R, since_ms: u64) -> Result<Option<JobRef>, ProviderError> {
        self.backend.ready()?;
        let id = MediaModel::<R>::id(self);
        let image = match req.input_image() {
            Some(p) if std::fs::metadata(p).is_ok_and(|m| m.len() <= DATA_URI_MAX) => json!(super::image_data_uri(p)?),
            _ => Value::Null,
        };
        let tpl = self.backend.inputs.template(&id, "replicate", R::WHAT);
        let want = template::fill(&tpl, &req.vars(image)).map_err(|e| ProviderError::Config(format!("inputs for {id}: {e}")))?;
        let version = self.model.split_once(':').map(|(_, v)| v.to_string());
        let api = &self.backend.api;
        let mut path = "v1/predictions".to_string();
        for _ in 0..super::FIND_PAGES {
            let page: PredictionPage = api.retrying("list predictions", || api.json(api.request(Method::GET, &path))).await?;
            for p in &page.results {
                // Newest first: once older than the submission (with clock slack), stop.
                if super::epoch_ms(&p.created_at).is_some_and(|t| t + 60_000 < since_ms) {
                    return Ok(None);
                }
                let same_model = match &version {
                    Some(v) => p.version.as_deref() == Some(v.as_str()),
                    None => p.model == self.model,
                };
                if same_model && super::holds_input(&want, &p.input) {
                    return Ok(Some(JobRef { provider: id, remote_id: p.id.clone() }));
                }
            }
            match page.next {
                Some(next) => path = next,
                None => break,
            }
        }
        Ok(None)
    }
    fn can_find(&self) -> bool {
        true
    }
    async fn fetch(&self, media: MediaRef, ctx: &JobCtx) -> Result<MediaRef, ProviderError> {
        self.backend.fetch(media, R::KIND, &ctx.work_dir, false).await
    }
    fn poll_interval(&self) -> Duration {
        self.backend.poll_interval(2000)
    }
    fn estimate_usd(&self, req: &R) -> Option<f64> {
        let sent = req.sent(&self.backend.inputs, &MediaModel::<R>::id(self), "replicate");
        self.backend.estimate(&self.model, |p| req.cost(p, &sent))
    }
    fn limiter(&self) -> Option<Arc<Semaphore>> {
        Some(self.backend.limiter.clone())
    }
}

/// Replicate predictions: images, videos and music (MusicGen); keys as bearer tokens.
pub static PROTOCOL: super::Protocol = super::Protocol {
    auth: crate::providers::http::Auth::Bearer,
    check_path: Some("v1/account"),
    chat: None,
    vision: None,
    image: Some(|backend, model, _| Ok(Arc::new(Replicate { backend, model }))),
    video: Some(|backend, model, _| Ok(Arc::new(Replicate { backend, model }))),
    speech: None,
    transcription: None,
    music: Some(|backend, model, _| Ok(Arc::new(Replicate { backend, model }))),
};
