//! Retrying the requests that are safe to repeat (polls, downloads, cancels): exponential
//! backoff with full jitter, `Retry-After` honoured up to a cap. A request that creates a
//! paid job never goes through here.

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::providers::ProviderError;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// First backoff; doubles each time.
    pub base: Duration,
    /// No backoff is longer than this.
    pub cap: Duration,
    /// A server's `Retry-After` is obeyed up to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 5, base: Duration::from_millis(500), cap: Duration::from_secs(30), max_retry_after: Duration::from_secs(120) }
    }
}

impl RetryPolicy {
    /// How long to wait before try `attempt + 1` after `err` (attempt counts from 1).
    pub fn delay(&self, attempt: u32, err: &ProviderError) -> Duration {
        if let ProviderError::RateLimited { retry_after: Some(d) } = err {
            return (*d).min(self.max_retry_after);
        }
        let exp = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(self.cap);
        // Full jitter, but never less than half the backoff so a burst still spreads out.
        let half = exp / 2;
        half + Duration::from_micros(fastrand::u64(0..=half.as_micros() as u64))
    }
}

/// Parse a `Retry-After` value: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Run `op` until it succeeds, fails with an error that is not retryable, or the tries
/// are spent.
pub async fn retrying<T, F, Fut>(policy: &RetryPolicy, what: &str, mut op: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && attempt < policy.attempts.max(1) => {
                let wait = policy.delay(attempt, &e);
                tracing::info!(what, attempt, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 22 Nov 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy { attempts: 10, base: Duration::from_millis(100), cap: Duration::from_millis(800), max_retry_after: Duration::from_secs(5) };
        let t = ProviderError::Transient("x".into());
        for (attempt, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (9, 800)] {
            let d = p.delay(attempt, &t).as_millis() as u64;
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d} ms not in [{}, {full}]", full / 2);
        }
        let limited = ProviderError::RateLimited { retry_after: Some(Duration::from_secs(60)) };
        assert_eq!(p.delay(1, &limited), Duration::from_secs(5), "Retry-After is capped");
    }
}
