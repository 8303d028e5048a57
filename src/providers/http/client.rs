//! One HTTP client per backend: base URL, authentication, timeouts, and the mapping of
//! HTTP failures onto `ProviderError` (which says whether trying again can help).

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::retry::{parse_retry_after, RetryPolicy};
use super::secret::{redact, Secret};
use crate::providers::ProviderError;

/// How a backend authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// `Authorization: Bearer KEY` (OpenAI, Replicate, a ComfyUI proxy).
    Bearer(Secret),
    /// `Authorization: Key KEY` (fal).
    Key(Secret),
    /// A header of its own (`x-goog-api-key` for Gemini).
    Header(&'static str, Secret),
    /// HTTP basic auth (a ComfyUI box behind a proxy).
    Basic { user: String, password: Secret },
}

impl Auth {
    fn secret(&self) -> Option<&Secret> {
        match self {
            Auth::None => None,
            Auth::Bearer(s) | Auth::Key(s) | Auth::Header(_, s) => Some(s),
            Auth::Basic { password, .. } => Some(password),
        }
    }

    pub fn apply(&self, rb: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => rb,
            Auth::Bearer(s) => rb.header(AUTHORIZATION, format!("Bearer {}", s.expose())),
            Auth::Key(s) => rb.header(AUTHORIZATION, format!("Key {}", s.expose())),
            Auth::Header(name, s) => rb.header(*name, s.expose()),
            Auth::Basic { user, password } => rb.basic_auth(user, Some(password.expose())),
        }
    }

    /// The header pairs, for clients other than reqwest (the ComfyUI websocket).
    pub fn headers(&self) -> Vec<(String, String)> {
        use base64::Engine as _;
        match self {
            Auth::None => vec![],
            Auth::Bearer(s) => vec![("Authorization".into(), format!("Bearer {}", s.expose()))],
            Auth::Key(s) => vec![("Authorization".into(), format!("Key {}", s.expose()))],
            Auth::Header(name, s) => vec![(name.to_string(), s.expose().to_string())],
            Auth::Basic { user, password } => {
                let raw = format!("{user}:{}", password.expose());
                vec![("Authorization".into(), format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))]
            }
        }
    }
}

/// A backend's HTTP endpoint.
#[derive(Debug, Clone)]
pub struct Api {
    /// The backend's name, for messages (`replicate`, `my-comfy`).
    pub name: String,
    base: String,
    http: reqwest::Client,
    pub auth: Auth,
    pub retry: RetryPolicy,
}

impl Api {
    pub fn new(name: &str, base_url: &str, auth: Auth, timeout: Duration, retry: RetryPolicy) -> Result<Api, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .read_timeout(timeout)
            .user_agent(concat!("admint/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Config(format!("{name}: cannot build an HTTP client: {e}")))?;
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ProviderError::Config(format!("{name}: base_url \"{base}\" must start with http:// or https://")));
        }
        Ok(Api { name: name.to_string(), base, http, auth, retry })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `path` under the base URL; an absolute URL (one the API returned) is used as is.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        }
    }

    /// A request with authentication. Absolute URLs on another host get no credentials
    /// (a CDN link must not receive the API key).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = self.url(path);
        let rb = self.http.request(method, &url);
        if same_origin(&url, &self.base) {
            self.auth.apply(rb)
        } else {
            rb
        }
    }

    /// A request that always carries the credentials (downloads the API says need them).
    pub fn request_with_auth(&self, method: Method, url: &str) -> RequestBuilder {
        self.auth.apply(self.http.request(method, self.url(url)))
    }

    /// Scrub this backend's key out of a text.
    pub fn redact(&self, text: &str) -> String {
        match self.auth.secret() {
            Some(s) => redact(text, &[s]),
            None => text.to_string(),
        }
    }

    /// Send once. Transport failures and non-2xx answers become `ProviderError`s.
    pub async fn send(&self, rb: RequestBuilder) -> Result<Response, ProviderError> {
        let resp = rb.send().await.map_err(|e| self.transport(e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let retry_after = retry_after(resp.headers());
        let ctype = content_type(resp.headers());
        let body = resp.text().await.unwrap_or_default();
        Err(self.classify(status, retry_after, &ctype, &body))
    }

    /// Send once and parse the JSON body.
    pub async fn json<T: DeserializeOwned>(&self, rb: RequestBuilder) -> Result<T, ProviderError> {
        let resp = self.send(rb).await?;
        self.parse(resp).await
    }

    pub async fn parse<T: DeserializeOwned>(&self, resp: Response) -> Result<T, ProviderError> {
        let ctype = content_type(resp.headers());
        let body = resp.text().await.map_err(|e| self.transport(e))?;
        serde_json::from_str(&body).map_err(|e| {
            ProviderError::Protocol(format!("{} sent a body admint cannot read ({e}): {}", self.name, snippet(&ctype, &self.redact(&body))))
        })
    }

    /// A reqwest failure: timeouts and connection errors are worth another try.
    pub fn transport(&self, e: reqwest::Error) -> ProviderError {
        let (timeout, connect, broke) = (e.is_timeout(), e.is_connect(), e.is_body() || e.is_decode() || e.is_request());
        let msg = self.redact(&e.without_url().to_string());
        if timeout {
            ProviderError::Transient(format!("{}: request timed out ({msg})", self.name))
        } else if connect {
            ProviderError::Transient(format!("{}: cannot connect to {} ({msg})", self.name, self.base))
        } else if broke {
            ProviderError::Transient(format!("{}: connection broke ({msg})", self.name))
        } else {
            ProviderError::Protocol(format!("{}: {msg}", self.name))
        }
    }

    /// Map an HTTP error answer to what it means for admint.
    pub fn classify(&self, status: StatusCode, retry_after: Option<Duration>, ctype: &str, body: &str) -> ProviderError {
        let body = self.redact(body);
        let msg = format!("{} answered {}: {}", self.name, status.as_u16(), error_message(ctype, &body));
        let lower = body.to_ascii_lowercase();
        let filtered = ["content_policy", "content policy", "safety", "nsfw", "content filter", "flagged", "moderation"]
            .iter()
            .any(|w| lower.contains(w));
        if lower.contains("quota_exceeded") {
            return ProviderError::QuotaExhausted(format!("{msg} — add credit or raise the limit on your {} account", self.name));
        }
        if lower.contains("api_key_invalid") || lower.contains("api key not valid") {
            return ProviderError::Auth(format!("{msg} — check the API key for {}", self.name));
        }
        match status.as_u16() {
            // Gemini's per-minute limits say "quota" too, but carry a RetryInfo delay.
            429 if lower.contains("retrydelay") => ProviderError::RateLimited { retry_after: retry_after.or_else(|| retry_delay(&body)) },
            401 | 403 => ProviderError::Auth(format!("{msg} — check the API key for {}", self.name)),
            402 => ProviderError::QuotaExhausted(format!("{msg} — add credit or raise the spending limit on your {} account", self.name)),
            404 => ProviderError::NotFound(format!("{msg} — check the model name and base_url")),
            429 if lower.contains("insufficient_quota") || lower.contains("quota") && !lower.contains("rate") => {
                ProviderError::QuotaExhausted(format!("{msg} — add credit or raise the spending limit on your {} account", self.name))
            }
            429 => ProviderError::RateLimited { retry_after },
            408 | 409 | 425 | 500..=599 => ProviderError::Transient(msg),
            _ if filtered => ProviderError::ContentFiltered(msg),
            _ => ProviderError::InvalidRequest(msg),
        }
    }

    /// Run an idempotent request with this backend's retry policy.
    pub async fn retrying<T, F, Fut>(&self, what: &str, op: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        super::retry::retrying(&self.retry, what, op).await
    }
}

fn same_origin(url: &str, base: &str) -> bool {
    let origin = |u: &str| -> String {
        let rest = u.split_once("://");
        match rest {
            Some((scheme, r)) => format!("{scheme}://{}", r.split('/').next().unwrap_or("")),
            None => String::new(),
        }
    };
    origin(url) == origin(base)
}

/// Google's `RetryInfo` detail: `"retryDelay": "30s"`.
fn retry_delay(body: &str) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let d = v.pointer("/error/details")?.as_array()?.iter().find_map(|d| d.get("retryDelay")?.as_str().map(str::to_string))?;
    d.trim_end_matches('s').parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, SystemTime::now()))
}

pub fn content_type(headers: &HeaderMap) -> String {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase()
}

/// The human part of an error body: the usual JSON error shapes, else a short snippet.
pub fn error_message(ctype: &str, body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let pick = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_string);
        // ElevenLabs: {"detail": {"status", "message"}} and FastAPI's {"detail": [{"msg"}]}.
        if let Some(m) = pick("/error/message").or_else(|| pick("/detail")).or_else(|| pick("/detail/message")).or_else(|| pick("/detail/0/msg")).or_else(|| pick("/error")).or_else(|| pick("/message")).or_else(|| pick("/title")) {
            return m;
        }
        if let Some(d) = v.get("detail") {
            return d.to_string().chars().take(300).collect();
        }
    }
    snippet(ctype, body)
}

/// A short, single-line view of a body for an error message.
pub fn snippet(ctype: &str, body: &str) -> String {
    let t = body.trim();
    if ctype.contains("html") || t.starts_with("<!") || t.to_ascii_lowercase().starts_with("<html") {
        return "an HTML page instead of an API answer (a proxy or login page?)".into();
    }
    if t.is_empty() {
        return "an empty body".into();
    }
    let one: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 200 {
        format!("{}…", one.chars().take(200).collect::<String>())
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Api {
        Api::new("test", "http://127.0.0.1:1", Auth::Bearer(Secret::new("sk-secret-key")), Duration::from_secs(1), RetryPolicy::default()).unwrap()
    }

    #[test]
    fn statuses_map_to_what_they_mean() {
        let a = api();
        let c = |s: u16, body: &str| a.classify(StatusCode::from_u16(s).unwrap(), None, "application/json", body);
        assert!(matches!(c(401, r#"{"error":{"message":"bad key sk-secret-key"}}"#), ProviderError::Auth(m) if !m.contains("sk-secret") && m.contains("bad key ***")));
        assert!(matches!(c(429, r#"{"error":{"code":"insufficient_quota","message":"You exceeded your current quota"}}"#), ProviderError::QuotaExhausted(_)));
        assert!(matches!(c(429, r#"{"detail":"Request was throttled."}"#), ProviderError::RateLimited { .. }));
        assert!(matches!(c(503, "upstream down"), ProviderError::Transient(_)));
        assert!(matches!(c(400, r#"{"error":{"code":"content_policy_violation","message":"rejected"}}"#), ProviderError::ContentFiltered(_)));
        assert!(matches!(c(422, r#"{"detail":"input.duration must be <= 8"}"#), ProviderError::InvalidRequest(m) if m.contains("duration must be")));
        assert!(matches!(c(404, "{}"), ProviderError::NotFound(_)));
        // ElevenLabs' shapes.
        assert!(matches!(c(401, r#"{"detail":{"status":"quota_exceeded","message":"This request exceeds your quota of 10000."}}"#), ProviderError::QuotaExhausted(m) if m.contains("exceeds your quota")));
        assert!(matches!(c(401, r#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#), ProviderError::Auth(m) if m.contains("Invalid API key")));
        assert!(matches!(c(422, r#"{"detail":[{"loc":["body","text"],"msg":"field required","type":"value_error.missing"}]}"#), ProviderError::InvalidRequest(m) if m.contains("field required")));
    }

    #[test]
    fn html_bodies_are_named_not_dumped() {
        assert!(snippet("text/html", "<html><body>Login</body></html>").contains("HTML page"));
    }

    #[test]
    fn credentials_stay_on_the_api_host() {
        assert!(same_origin("http://127.0.0.1:1/v1/x", "http://127.0.0.1:1"));
        assert!(!same_origin("https://cdn.example.com/out.mp4", "http://127.0.0.1:1"));
    }
}
