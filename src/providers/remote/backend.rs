//! What every remote backend has: its endpoint, credentials, limits and prices, and the
//! request variables its templates can use.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::template::{self, Vars};
use crate::config::{BackendKind, BackendSettings, Price, Settings};
use crate::domain::Aspect;
use crate::providers::http::{default_cap, download, Api, Auth, MediaKind, RetryPolicy, Secret};
use crate::providers::pricing::PriceBook;
use crate::providers::{ImageRequest, MediaRef, MusicRequest, ProviderError, VideoRequest};

const SHIPPED_INPUTS: &str = include_str!("inputs.toml");

/// Model input templates: shipped per kind and per model, under the user's `[inputs]`.
#[derive(Debug, Clone)]
pub struct InputBook {
    shipped: toml::Table,
    user: std::collections::BTreeMap<String, Value>,
}

impl InputBook {
    pub fn new(settings: &Settings) -> InputBook {
        InputBook { shipped: toml::from_str(SHIPPED_INPUTS).expect("the shipped input table parses"), user: settings.inputs.clone() }
    }

    /// The template for `model_id` (`fal:fal-ai/…`), else the kind's default for `what`
    /// (`video` or `image`).
    pub fn template(&self, model_id: &str, kind: &str, what: &str) -> Value {
        if let Some(v) = self.user.get(model_id) {
            return v.clone();
        }
        let shipped = |k: &str| self.shipped.get(k).and_then(|v| serde_json::to_value(v).ok());
        shipped(model_id)
            .or_else(|| self.shipped.get(kind).and_then(|t| t.get(what)).and_then(|v| serde_json::to_value(v).ok()))
            .unwrap_or_else(|| json!({ "prompt": "{prompt}" }))
    }
}

/// One configured backend, shared by all its models.
#[derive(Debug)]
pub struct Backend {
    pub name: String,
    pub kind: BackendKind,
    pub settings: BackendSettings,
    pub api: Api,
    /// Why calls cannot be made (a missing key): reported at the first call, so a chain
    /// can fall back and `doctor` can say so.
    pub unusable: Option<String>,
    pub limiter: Arc<Semaphore>,
    pub prices: Arc<PriceBook>,
    pub inputs: Arc<InputBook>,
}

impl Backend {
    pub fn open(name: &str, settings: &Settings, prices: Arc<PriceBook>, inputs: Arc<InputBook>) -> Result<Arc<Backend>, ProviderError> {
        let b = settings.backend(name).map_err(ProviderError::Config)?;
        let kind = b.backend_kind().ok_or_else(|| ProviderError::Config(format!("backends.{name}: kind \"{}\" is unknown", b.kind)))?;
        let (auth, unusable) = match (b.api_key_env.as_str(), b.auth.as_str()) {
            ("none", _) | (_, "none") => (Auth::None, None),
            (var, auth) => match Secret::from_env(var, name) {
                Ok(key) if auth == "basic" => (Auth::Basic { user: b.user.clone(), password: key }, None),
                Ok(key) => ((super::protocol(kind).auth)(key), None),
                Err(ProviderError::Auth(why)) => (Auth::None, Some(why)),
                Err(e) => (Auth::None, Some(e.to_string())),
            },
        };
        let retry = RetryPolicy {
            attempts: if b.retry_attempts == 0 { 5 } else { b.retry_attempts },
            base: Duration::from_millis(if b.retry_base_ms == 0 { 500 } else { b.retry_base_ms }),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(if b.max_retry_after_s == 0 { 120 } else { b.max_retry_after_s }),
        };
        let api = Api::new(name, &b.base_url, auth, Duration::from_secs(b.timeout_s), retry)?;
        Ok(Arc::new(Backend { name: name.to_string(), kind, limiter: Arc::new(Semaphore::new(b.concurrency)), settings: b, api, unusable, prices, inputs }))
    }

    /// Fail at once when the backend cannot be used (no key).
    pub fn ready(&self) -> Result<(), ProviderError> {
        match &self.unusable {
            Some(why) => Err(ProviderError::Auth(why.clone())),
            None => Ok(()),
        }
    }

    pub fn model_id(&self, model: &str) -> String {
        format!("{}:{model}", self.name)
    }

    pub fn paid(&self) -> bool {
        self.settings.paid.unwrap_or(true)
    }

    /// Price of a call: free backends cost nothing; a paid model with no price is `None`.
    pub fn estimate(&self, model: &str, f: impl Fn(&Price) -> f64) -> Option<f64> {
        if !self.paid() {
            return Some(0.0);
        }
        self.prices.get(&self.model_id(model)).map(f)
    }

    pub fn price(&self, model: &str) -> Option<&Price> {
        if self.paid() {
            self.prices.get(&self.model_id(model))
        } else {
            None
        }
    }

    pub fn poll_interval(&self, default_ms: u64) -> Duration {
        Duration::from_millis(if self.settings.poll_ms == 0 { default_ms } else { self.settings.poll_ms })
    }

    pub fn cap(&self, kind: MediaKind) -> u64 {
        if self.settings.max_download_mb == 0 {
            default_cap(kind)
        } else {
            self.settings.max_download_mb << 20
        }
    }

    /// Whether the backend answers and takes the key, with a cheap read-only request
    /// (`doctor`). Says what it checked.
    pub async fn check(&self) -> Result<String, String> {
        if let Some(why) = &self.unusable {
            return Err(why.clone());
        }
        let check = super::protocol(self.kind).check_path;
        let (path, checks_key) = (check.unwrap_or(""), check.is_some());
        let api = &self.api;
        let rb = api.request(reqwest::Method::GET, path).timeout(Duration::from_secs(5));
        match api.send(rb).await {
            Ok(_) if checks_key => Ok(format!("{} answers{}", api.base(), if self.settings.auth == "none" { "" } else { " and accepts the key" })),
            Ok(_) => Ok(format!("{} answers (the key is checked at the first call)", api.base())),
            // fal's queue host has no free endpoint: any HTTP answer means it is reachable.
            Err(ProviderError::NotFound(_) | ProviderError::InvalidRequest(_)) if !checks_key => Ok(format!("{} answers (the key is checked at the first call)", api.base())),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Download a result URL into `dir` (checked, capped); other media pass through.
    pub async fn fetch(&self, media: MediaRef, kind: MediaKind, dir: &Path, with_auth: bool) -> Result<MediaRef, ProviderError> {
        match media {
            MediaRef::Url(url) => Ok(MediaRef::Local(download(&self.api, &url, kind, dir, self.cap(kind), with_auth).await?)),
            other => Ok(other),
        }
    }
}

/// `16:9`-style ratio of a canvas.
fn aspect_of(w: u32, h: u32) -> String {
    Aspect::closest(w, h).id().to_string()
}

/// Image bytes as (MIME type, base64), for APIs that take images inline.
pub fn image_base64(data: &[u8], from: &str) -> Result<(&'static str, String), ProviderError> {
    let mime = match crate::providers::http::sniff(data) {
        Some((_, "png")) => "image/png",
        Some((_, "jpg")) => "image/jpeg",
        Some((_, "webp")) => "image/webp",
        Some((_, "gif")) => "image/gif",
        _ => return Err(ProviderError::InvalidRequest(format!("{from} is not a PNG, JPEG, WebP or GIF image"))),
    };
    Ok((mime, base64::engine::general_purpose::STANDARD.encode(data)))
}

/// A local image as a `data:` URI.
/// Pages of a provider's list of jobs read when looking for a cut-off submission.
pub const FIND_PAGES: usize = 5;

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn epoch_ms(rfc3339: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An RFC 3339 time (UTC) of milliseconds since the epoch.
pub fn rfc3339(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Whether a listed job's input holds everything admint sends (`want`, an object).
pub fn holds_input(want: &Value, listed: &Value) -> bool {
    want.as_object().is_some_and(|w| w.iter().all(|(k, v)| listed.get(k) == Some(v)))
}

pub fn image_data_uri(path: &Path) -> Result<String, ProviderError> {
    let (mime, b64) = image_base64(&std::fs::read(path)?, &path.display().to_string())?;
    Ok(format!("data:{mime};base64,{b64}"))
}

/// The variables a video template can use; `image` is whatever the backend made of the
/// keyframe (a data URI, an upload URL, a ComfyUI file name).
fn video_vars(req: &VideoRequest, image: Value) -> Vars {
    let mut v = Vars::new();
    v.insert("prompt", json!(req.prompt));
    v.insert("negative_prompt", json!(req.negative_prompt));
    v.insert("seed", json!(req.seed));
    v.insert("image", image);
    v.insert("duration", json!(req.duration_s.ceil().max(1.0) as u64));
    v.insert("duration_s", json!(req.duration_s));
    v.insert("fps", json!(req.fps));
    v.insert("frames", json!((req.duration_s * req.fps as f64).round() as u64 + 1));
    v.insert("width", json!(req.width));
    v.insert("height", json!(req.height));
    v.insert("aspect", json!(aspect_of(req.width, req.height)));
    v.insert("camera", json!(req.camera.id()));
    v.insert("motion", json!(req.motion_intensity));
    v
}

fn image_vars(req: &ImageRequest, image: Value) -> Vars {
    let mut v = Vars::new();
    v.insert("prompt", json!(req.prompt));
    v.insert("negative_prompt", json!(req.negative_prompt));
    v.insert("seed", json!(req.seed));
    v.insert("image", image);
    v.insert("width", json!(req.width));
    v.insert("height", json!(req.height));
    v.insert("aspect", json!(aspect_of(req.width, req.height)));
    v
}

fn music_vars(req: &MusicRequest) -> Vars {
    let mut v = Vars::new();
    v.insert("prompt", json!(req.prompt));
    v.insert("seed", json!(req.seed));
    v.insert("duration", json!(req.duration_s.ceil().max(1.0) as u64));
    v.insert("duration_s", json!(req.duration_s));
    v.insert("bpm", json!(req.bpm.round() as u64));
    v
}

/// What the remote backends need to know of an image, video or music request.
pub trait RemoteRequest: Send + Sync + 'static {
    /// `video`, `image` or `music`: which default input template applies.
    const WHAT: &'static str;
    const KIND: MediaKind;
    /// The picture to start from, when there is one.
    fn input_image(&self) -> Option<&Path>;
    /// Template variables, with `image` as the backend made it.
    fn vars(&self, image: Value) -> Vars;
    /// The call's price under `price`, for the input as it is `sent` (after the model's
    /// input template: a model that always makes 8 s is billed for 8 s).
    fn cost(&self, price: &Price, sent: &Value) -> f64;

    /// The input this request is sent as, to the model `model_id` of a backend `kind`
    /// (images left out: their links are made at submission).
    fn sent(&self, inputs: &InputBook, model_id: &str, kind: &str) -> Value {
        template::fill(&inputs.template(model_id, kind, Self::WHAT), &self.vars(Value::Null)).unwrap_or(Value::Null)
    }
}

/// The seconds a model is asked for in what is sent (`duration`, `seconds_total`,
/// `duration_seconds` or `seconds`; numbers or strings such as "8" or "8s"), else
/// `planned`.
pub fn sent_seconds(sent: &Value, planned: f64) -> f64 {
    ["duration", "seconds_total", "duration_seconds", "seconds"]
        .iter()
        .find_map(|k| match sent.get(*k)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().trim_end_matches('s').parse::<f64>().ok(),
            _ => None,
        })
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(planned)
}

impl RemoteRequest for VideoRequest {
    const WHAT: &'static str = "video";
    const KIND: MediaKind = MediaKind::Video;
    fn input_image(&self) -> Option<&Path> {
        Some(&self.image)
    }
    fn vars(&self, image: Value) -> Vars {
        video_vars(self, image)
    }
    fn cost(&self, price: &Price, sent: &Value) -> f64 {
        use crate::providers::pricing::Cost;
        price.video(sent_seconds(sent, self.duration_s))
    }
}

impl RemoteRequest for ImageRequest {
    const WHAT: &'static str = "image";
    const KIND: MediaKind = MediaKind::Image;
    fn input_image(&self) -> Option<&Path> {
        self.init_images.first().map(|p| p.as_path())
    }
    fn vars(&self, image: Value) -> Vars {
        image_vars(self, image)
    }
    fn cost(&self, price: &Price, sent: &Value) -> f64 {
        use crate::providers::pricing::Cost;
        let n = ["num_images", "num_outputs", "n"].iter().find_map(|k| sent.get(*k).and_then(Value::as_u64)).unwrap_or(1).max(1);
        price.images(n as u32)
    }
}

impl RemoteRequest for MusicRequest {
    const WHAT: &'static str = "music";
    const KIND: MediaKind = MediaKind::Audio;
    fn input_image(&self) -> Option<&Path> {
        None
    }
    fn vars(&self, _image: Value) -> Vars {
        music_vars(self)
    }
    fn cost(&self, price: &Price, sent: &Value) -> f64 {
        use crate::providers::pricing::Cost;
        price.video(sent_seconds(sent, self.duration_s.ceil()))
    }
}

/// The first file link in an output: a string, a list, or an object of them.
pub fn first_url(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") || s.starts_with("data:") => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(first_url),
        Value::Object(map) => map.values().find_map(first_url),
        _ => None,
    }
}

/// Progress from tqdm lines in a log (`45%|████▌     | 9/20 [00:04<00:05]`): the last
/// such line, as steps done ÷ steps.
pub fn tqdm_progress(logs: &str) -> Option<f32> {
    logs.split(['\n', '\r']).rev().find_map(|line| {
        let (pct, rest) = line.split_once("%|")?;
        let pct: f32 = pct.trim().rsplit(' ').next()?.parse().ok()?;
        let counts = rest.split_once('|').map(|(_, r)| r.trim());
        let frac = counts
            .and_then(|c| c.split_whitespace().next())
            .and_then(|c| c.split_once('/'))
            .and_then(|(a, b)| Some((a.parse::<f32>().ok()?, b.parse::<f32>().ok()?)))
            .filter(|(_, b)| *b > 0.0)
            .map(|(a, b)| a / b)
            .unwrap_or(pct / 100.0);
        Some(frac.clamp(0.0, 1.0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tqdm_lines_give_progress() {
        let logs = "Loading model\n  0%|          | 0/20 [00:00<?, ?it/s]\r 45%|████▌     | 9/20 [00:04<00:05,  2.1it/s]\nsaving";
        assert_eq!(tqdm_progress(logs), Some(0.45));
        assert_eq!(tqdm_progress("no bars here"), None);
        assert_eq!(tqdm_progress("100%|██████████| 50/50 [00:10<00:00]"), Some(1.0));
    }

    #[test]
    fn a_missing_key_is_said_once() {
        let mut settings = Settings::default();
        let b = settings.backend("replicate").unwrap();
        let var = "ADMINT_TEST_KEY_THAT_IS_NEVER_SET";
        settings.backends.insert("replicate".into(), crate::config::BackendSettings { api_key_env: var.into(), ..b });
        let backend = Backend::open("replicate", &settings, Arc::new(PriceBook::new(&settings.prices)), Arc::new(InputBook::new(&settings))).unwrap();
        let e = backend.ready().unwrap_err().to_string();
        assert_eq!(e.matches("authentication failed").count(), 1, "{e}");
        assert!(e.contains(var), "{e}");
        assert!(!e.contains("(check the API key in your environment)"), "{e}");
    }
}
