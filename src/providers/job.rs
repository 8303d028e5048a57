//! Remote jobs: references to them, their states, and `wait_job`, the poller with
//! backoff, Retry-After and cancel.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ProviderError;

/// A job on a remote provider, enough to find it again after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    pub provider: String,
    pub remote_id: String,
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState<T> {
    Queued { position: Option<u32> },
    Running { progress: Option<f32> },
    Succeeded(T),
    Failed(String),
    Canceled,
}

/// The answer to `submit`: finished at once (local backends), or pending on a provider.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted<T> {
    Done(T),
    Pending(JobRef),
}

/// A produced media file.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaRef {
    /// A file on this machine (moved into the blob store by the pipeline).
    Local(PathBuf),
    /// A URL to download at once (providers delete outputs).
    Url(String),
    Bytes { data: Vec<u8>, ext: String },
}

/// Progress callback: 0..1.
pub type ProgressFn = Arc<dyn Fn(f32) + Send + Sync>;

/// What every job call gets: a stable idempotency key, a progress sink, a cancel flag and
/// a scratch directory for local outputs.
#[derive(Clone)]
pub struct JobCtx {
    /// Derived from the task's content key: providers that accept client ids use it so a
    /// crash between request and record cannot double-charge.
    pub idempotency_key: String,
    pub progress: ProgressFn,
    pub cancel: Arc<AtomicBool>,
    pub work_dir: PathBuf,
    /// Set by `wait_job` when a stop cancelled the remote job and the provider took the
    /// cancel: the job is over, and a resume must submit anew rather than re-attach.
    pub remote_cancelled: Arc<AtomicBool>,
}

impl JobCtx {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Poll a pending job until it finishes: exponential backoff from `interval`, honouring
/// Retry-After on 429, retrying transient poll errors, reporting progress, cancelling the
/// remote job when asked to stop.
pub async fn wait_job<T, S, SF, C, CF>(
    job: &JobRef,
    ctx: &JobCtx,
    interval: Duration,
    mut status: S,
    cancel: C,
) -> Result<T, ProviderError>
where
    S: FnMut() -> SF,
    SF: Future<Output = Result<JobState<T>, ProviderError>>,
    C: FnOnce() -> CF,
    CF: Future<Output = Result<(), ProviderError>>,
{
    let max_delay = Duration::from_secs(30);
    let mut delay = interval;
    let mut transient_failures = 0u32;
    loop {
        if ctx.cancelled() {
            match cancel().await {
                Ok(()) => ctx.remote_cancelled.store(true, Ordering::Relaxed),
                Err(e) => tracing::warn!(job = %job.remote_id, provider = %job.provider, error = %e, "could not cancel the job; a resume re-attaches to it"),
            }
            return Err(ProviderError::Cancelled);
        }
        match status().await {
            Ok(JobState::Succeeded(v)) => {
                (ctx.progress)(1.0);
                return Ok(v);
            }
            Ok(JobState::Failed(m)) => return Err(ProviderError::JobFailed(m)),
            Ok(JobState::Canceled) => return Err(ProviderError::JobGone(format!("job {} was cancelled on {}", job.remote_id, job.provider))),
            Ok(JobState::Running { progress }) => {
                transient_failures = 0;
                if let Some(p) = progress {
                    (ctx.progress)(p.clamp(0.0, 0.99));
                }
                delay = (delay * 3 / 2).min(max_delay);
            }
            Ok(JobState::Queued { .. }) => {
                transient_failures = 0;
                delay = (delay * 3 / 2).min(max_delay);
            }
            Err(ProviderError::RateLimited { retry_after }) => {
                transient_failures += 1;
                delay = retry_after.unwrap_or(delay * 2).min(Duration::from_secs(120));
            }
            Err(e) if e.is_retryable() => {
                transient_failures += 1;
                // Jittered, so many clips polling one provider do not retry in step.
                delay = (delay * 2).min(max_delay).mul_f64(0.75 + fastrand::f64() * 0.5);
                if transient_failures > 8 {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        tokio::time::sleep(delay).await;
    }
}
