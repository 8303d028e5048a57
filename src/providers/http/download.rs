//! Fetching a produced file: streamed to disk with a size cap, refused when the server
//! sends something other than the media asked for (an HTML error page is not a video).
//! The pipeline then moves the file into the blob store, which names it by its sha256.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use futures::StreamExt;
use reqwest::header::CONTENT_LENGTH;
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use super::client::{content_type, Api};
use crate::providers::ProviderError;

/// What kind of file a download must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
}

impl MediaKind {
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Image => "an image",
            MediaKind::Video => "a video",
            MediaKind::Audio => "audio",
        }
    }
}

/// Files larger than this are refused (per kind, in bytes).
pub fn default_cap(kind: MediaKind) -> u64 {
    match kind {
        MediaKind::Image => 50 << 20,
        MediaKind::Video => 1 << 30,
        MediaKind::Audio => 200 << 20,
    }
}

/// The kind and extension the first bytes of a file say it is.
pub fn sniff(head: &[u8]) -> Option<(MediaKind, &'static str)> {
    let at = |o: usize, m: &[u8]| head.len() >= o + m.len() && &head[o..o + m.len()] == m;
    if at(0, b"\x89PNG\r\n\x1a\n") {
        Some((MediaKind::Image, "png"))
    } else if at(0, &[0xFF, 0xD8, 0xFF]) {
        Some((MediaKind::Image, "jpg"))
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some((MediaKind::Image, "webp"))
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some((MediaKind::Image, "gif"))
    } else if at(4, b"ftyp") {
        if at(8, b"qt  ") {
            Some((MediaKind::Video, "mov"))
        } else if at(8, b"M4A ") {
            Some((MediaKind::Audio, "m4a"))
        } else {
            Some((MediaKind::Video, "mp4"))
        }
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Some((MediaKind::Video, "webm"))
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some((MediaKind::Audio, "wav"))
    } else if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some((MediaKind::Audio, "mp3"))
    } else if at(0, b"OggS") {
        Some((MediaKind::Audio, "ogg"))
    } else if at(0, b"fLaC") {
        Some((MediaKind::Audio, "flac"))
    } else {
        None
    }
}

/// Whether a sniffed file is acceptable as `want` (an animated GIF or WebP can be a
/// video; a video container can carry the audio asked for).
fn acceptable(want: MediaKind, got: MediaKind, ext: &str) -> bool {
    want == got
        || (want == MediaKind::Video && matches!(ext, "gif" | "webp"))
        || (want == MediaKind::Audio && matches!(ext, "mp4" | "webm"))
}

/// Check bytes already in memory (base64 answers) and name their extension.
pub fn check_bytes(data: &[u8], want: MediaKind, from: &str) -> Result<&'static str, ProviderError> {
    match sniff(data) {
        Some((got, ext)) if acceptable(want, got, ext) => Ok(ext),
        Some((_, ext)) => Err(ProviderError::Protocol(format!("{from} sent a {ext} file where {} was expected", want.name()))),
        None => Err(ProviderError::Protocol(format!(
            "{from} sent {} bytes that are not {} (they start {:?})",
            data.len(),
            want.name(),
            String::from_utf8_lossy(&data[..data.len().min(24)])
        ))),
    }
}

/// Decode a `data:` URI.
pub fn decode_data_uri(uri: &str) -> Result<Vec<u8>, ProviderError> {
    let (meta, payload) = uri.strip_prefix("data:").and_then(|r| r.split_once(',')).ok_or_else(|| ProviderError::Protocol("a malformed data: URI".into()))?;
    if meta.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD.decode(payload.trim()).map_err(|e| ProviderError::Protocol(format!("a data: URI with bad base64: {e}")))
    } else {
        Ok(payload.as_bytes().to_vec())
    }
}

/// Download `url` into `dir` as `want`, retrying transient failures. `with_auth` sends
/// the backend's credentials even to another host (Gemini's file links need the key).
pub async fn download(api: &Api, url: &str, want: MediaKind, dir: &Path, cap: u64, with_auth: bool) -> Result<PathBuf, ProviderError> {
    tokio::fs::create_dir_all(dir).await?;
    if url.starts_with("data:") {
        let data = decode_data_uri(url)?;
        let ext = check_bytes(&data, want, &api.name)?;
        let path = dir.join(format!("{}.{ext}", uuid::Uuid::new_v4()));
        tokio::fs::write(&path, &data).await?;
        return Ok(path);
    }
    api.retrying("download", || download_once(api, url, want, dir, cap, with_auth)).await
}

async fn download_once(api: &Api, url: &str, want: MediaKind, dir: &Path, cap: u64, with_auth: bool) -> Result<PathBuf, ProviderError> {
    let rb = if with_auth { api.request_with_auth(Method::GET, url) } else { api.request(Method::GET, url) };
    let resp = api.send(rb).await?;
    let ctype = content_type(resp.headers());
    let too_big = |n: u64| ProviderError::Protocol(format!("{}: the output is {n} bytes, over the {cap}-byte cap for {}", api.name, want.name()));
    if let Some(len) = resp.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()) {
        if len > cap {
            return Err(too_big(len));
        }
    }
    if ctype.starts_with("text/") || ctype.contains("json") || ctype.contains("html") {
        let body = resp.text().await.unwrap_or_default();
        return Err(ProviderError::Protocol(format!(
            "{}: asked for {}, got {ctype}: {}",
            api.name,
            want.name(),
            super::client::snippet(&ctype, &api.redact(&body))
        )));
    }
    let part = dir.join(format!(".{}.part", uuid::Uuid::new_v4()));
    let result = async {
        let mut file = tokio::fs::File::create(&part).await?;
        let mut stream = resp.bytes_stream();
        let mut head = Vec::with_capacity(32);
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| api.transport(e))?;
            total += chunk.len() as u64;
            if total > cap {
                return Err(too_big(total));
            }
            if head.len() < 32 {
                head.extend_from_slice(&chunk[..chunk.len().min(32 - head.len())]);
            }
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        let ext = check_bytes(&head, want, &api.name)?;
        let path = dir.join(format!("{}.{ext}", uuid::Uuid::new_v4()));
        tokio::fs::rename(&part, &path).await?;
        Ok(path)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_name_the_file() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some((MediaKind::Image, "png")));
        assert_eq!(sniff(b"\x00\x00\x00\x20ftypisom...."), Some((MediaKind::Video, "mp4")));
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00WAVEfmt "), Some((MediaKind::Audio, "wav")));
        assert_eq!(sniff(b"<!DOCTYPE html>"), None);
        assert!(check_bytes(b"<!DOCTYPE html><p>502</p>", MediaKind::Video, "x").is_err());
        assert!(check_bytes(b"\x89PNG\r\n\x1a\n....", MediaKind::Video, "x").is_err());
        assert_eq!(decode_data_uri("data:text/plain;base64,aGk=").unwrap(), b"hi");
    }
}
