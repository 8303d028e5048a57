//! `ProviderError`: what can go wrong talking to a model, and whether trying again helps.

use std::time::Duration;
use thiserror::Error;

/// What can go wrong talking to a model. `is_retryable` says whether polling/downloading
/// again may help; a job-creating request is never retried automatically.
#[derive(Debug, Error)]
pub enum ProviderError {
    #[error("rate limited{}", .retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("quota exhausted: {0}")]
    QuotaExhausted(String),
    #[error("temporary provider failure: {0}")]
    Transient(String),
    /// The message says which key to check (every constructor names the backend).
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("request rejected: {0}")]
    InvalidRequest(String),
    #[error("blocked by the provider's content filter: {0}")]
    ContentFiltered(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("unexpected response: {0}")]
    Protocol(String),
    #[error("job failed: {0}")]
    JobFailed(String),
    /// The job was cancelled or interrupted, or the provider no longer knows it (a
    /// restarted box): nothing is wrong with the request — submit it again.
    #[error("job gone: {0}")]
    JobGone(String),
    /// The model answered, but not with something usable (a grammar it could not fill,
    /// an answer cut off): ask again differently (repair, another seed), not the same.
    #[error("unusable answer: {0}")]
    Malformed(String),
    /// The model cannot do what was asked (an image to a text-only model): permanent,
    /// the chain moves on at once.
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("media: {0}")]
    Media(#[from] crate::media::MediaError),
    #[error("config: {0}")]
    Config(String),
    #[error("cancelled")]
    Cancelled,
    #[error("i/o: {}", crate::text::io_words(.0))]
    Io(#[from] std::io::Error),
}

impl ProviderError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ProviderError::RateLimited { .. } | ProviderError::Transient(_))
    }
}
