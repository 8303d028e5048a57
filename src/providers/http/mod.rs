//! The HTTP plumbing every remote backend shares: authentication, error mapping,
//! retries with backoff and `Retry-After`, checked streaming downloads, secrets.

mod client;
mod download;
mod retry;
mod secret;

pub use client::{content_type, error_message, retry_after, snippet, Api, Auth};
pub use download::{check_bytes, decode_data_uri, default_cap, download, sniff, MediaKind};
pub use retry::{parse_retry_after, retrying, RetryPolicy};
pub use secret::{redact, Secret};
