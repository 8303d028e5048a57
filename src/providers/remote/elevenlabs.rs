//! ElevenLabs: text-to-speech *with timestamps*
//! (`POST /v1/text-to-speech/{voice_id}/with-timestamps`), which returns the audio as
//! base64 and each character's start and end, from which the captions get exact word
//! timings. A line whose request a crash cut off is recovered from the account's
//! history (`GET /v1/history`, `GET /v1/history/{id}/audio`) instead of being paid for
//! twice. The key goes in `xi-api-key`; errors come as
//! `{"detail": {"status", "message"}}` (or FastAPI's `{"detail": [{"msg"}]}` on 422).

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use super::Backend;
use crate::domain::Cue;
use crate::providers::http::{check_bytes, MediaKind};
use crate::providers::pricing::Cost;
use crate::providers::{JobCtx, MediaRef, Produced, ProviderError, SpeechModel, SpeechRequest, Spoken};

/// The voice used when the brief names none (George, one of ElevenLabs' default voices).
pub const DEFAULT_VOICE: &str = "JBFqnCBsd6RMkjVDRZzb";
/// MP3 at 44.1 kHz and 128 kb/s: available on every plan.
const OUTPUT_FORMAT: &str = "mp3_44100_128";
/// ElevenLabs refuses longer texts in one request (its smallest model limit).
const MAX_CHARS: usize = 5000;

pub struct ElevenLabsSpeech {
    pub backend: Arc<Backend>,
    pub model: String,
}

#[derive(Debug, Deserialize)]
struct Alignment {
    characters: Vec<String>,
    character_start_times_seconds: Vec<f64>,
    character_end_times_seconds: Vec<f64>,
}

#[derive(Debug, Deserialize)]
struct WithTimestamps {
    audio_base64: String,
    #[serde(default)]
    alignment: Option<Alignment>,
}

/// Words and their times from character timings: a word runs from its first character's
/// start to its last character's end; whitespace separates words.
fn words_of(a: &Alignment) -> Result<Vec<Cue>, ProviderError> {
    let n = a.characters.len();
    if a.character_start_times_seconds.len() != n || a.character_end_times_seconds.len() != n {
        return Err(ProviderError::Protocol(format!(
            "elevenlabs: the alignment has {n} characters but {} start and {} end times",
            a.character_start_times_seconds.len(),
            a.character_end_times_seconds.len()
        )));
    }
    let mut words = Vec::new();
    let mut cur: Option<Cue> = None;
    for i in 0..n {
        let (c, start, end) = (&a.characters[i], a.character_start_times_seconds[i], a.character_end_times_seconds[i]);
        if !start.is_finite() || !end.is_finite() || start < 0.0 {
            return Err(ProviderError::Protocol(format!("elevenlabs: character {i} has the time {start}..{end}")));
        }
        if c.trim().is_empty() {
            words.extend(cur.take());
            continue;
        }
        match &mut cur {
            Some(w) => {
                w.text.push_str(c);
                w.end_s = w.end_s.max(end);
            }
            None => cur = Some(Cue { start_s: start, end_s: end.max(start), text: c.clone() }),
        }
    }
    words.extend(cur);
    Ok(words.into_iter().filter(|w| w.text.chars().any(char::is_alphanumeric)).collect())
}

#[async_trait]
impl SpeechModel for ElevenLabsSpeech {
    fn id(&self) -> String {
        self.backend.model_id(&self.model)
    }

    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<Spoken, ProviderError> {
        self.backend.ready()?;
        let chars = req.text.chars().count();
        if chars > MAX_CHARS {
            return Err(ProviderError::InvalidRequest(format!("voiceover line of {chars} characters is over the {MAX_CHARS} ElevenLabs takes")));
        }
        let voice = if req.voice.trim().is_empty() { DEFAULT_VOICE } else { req.voice.trim() };
        if !voice.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ProviderError::InvalidRequest(format!("\"{voice}\" is not an ElevenLabs voice id (ids are letters and digits; see GET /v1/voices)")));
        }
        let api = &self.backend.api;
        let path = format!("v1/text-to-speech/{voice}/with-timestamps?output_format={OUTPUT_FORMAT}");
        let body = json!({ "text": req.text, "model_id": self.model });
        let answer: WithTimestamps = api.json(api.request(Method::POST, &path).json(&body)).await?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(answer.audio_base64.trim())
            .map_err(|e| ProviderError::Protocol(format!("elevenlabs: audio_base64 is not base64 ({e})")))?;
        if data.len() as u64 > self.backend.cap(MediaKind::Audio) {
            return Err(ProviderError::Protocol(format!("elevenlabs sent {} bytes of audio, over the download cap", data.len())));
        }
        let ext = check_bytes(&data, MediaKind::Audio, &self.backend.name)?;
        let path = ctx.work_dir.join(format!("speech-{}.{ext}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, &data)?;
        let words = answer.alignment.as_ref().map(words_of).transpose()?.filter(|w| !w.is_empty());
        // The API reports no cost in the answer: the ledger books the per-character estimate.
        Ok(Spoken { produced: Produced::new(MediaRef::Local(path)), words })
    }

    /// ElevenLabs keeps every generation in the account's history: a line whose request
    /// a crash cut off is found there (same text, voice and model, made since the request)
    /// and downloaded, not made and paid for again. Until the cut-off request's time
    /// limit has passed it may still be running, so the history is polled until then.
    async fn recover(&self, req: &SpeechRequest, since_ms: u64, ctx: &JobCtx) -> Result<Option<Spoken>, ProviderError> {
        self.backend.ready()?;
        let voice = if req.voice.trim().is_empty() { DEFAULT_VOICE } else { req.voice.trim() };
        let api = &self.backend.api;
        let deadline_ms = since_ms + self.backend.settings.timeout_s * 1000 + 2000;
        loop {
            let path = format!("v1/history?page_size=100&voice_id={voice}");
            let page: HistoryPage = api.retrying("history", || api.json(api.request(Method::GET, &path))).await?;
            let found = page.history.iter().find(|h| {
                h.text == req.text && h.voice_id == voice && h.model_id.as_deref().is_none_or(|m| m == self.model) && h.date_unix * 1000 + 1000 >= since_ms
            });
            if let Some(h) = found {
                let url = format!("v1/history/{}/audio", h.history_item_id);
                let resp = api.retrying("history audio", || api.send(api.request(Method::GET, &url))).await?;
                let data = resp.bytes().await.map_err(|e| api.transport(e))?;
                let ext = check_bytes(&data, MediaKind::Audio, &self.backend.name)?;
                let path = ctx.work_dir.join(format!("speech-{}.{ext}", uuid::Uuid::new_v4().simple()));
                std::fs::write(&path, &data)?;
                tracing::info!(item = %h.history_item_id, "recovered a cut-off line from the ElevenLabs history");
                return Ok(Some(Spoken { produced: Produced::new(MediaRef::Local(path)), words: None }));
            }
            if crate::domain::now_ms() >= deadline_ms || ctx.cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(None);
            }
            tokio::time::sleep(self.backend.poll_interval(1000)).await;
        }
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn estimate_usd(&self, req: &SpeechRequest) -> Option<f64> {
        self.backend.estimate(&self.model, |p| p.characters(req.text.chars().count()))
    }
}

/// `GET /v1/history`: the account's generations, newest first.
#[derive(Debug, Deserialize)]
struct HistoryPage {
    history: Vec<HistoryItem>,
}

#[derive(Debug, Deserialize)]
struct HistoryItem {
    history_item_id: String,
    #[serde(default)]
    voice_id: String,
    #[serde(default)]
    model_id: Option<String>,
    #[serde(default)]
    text: String,
    /// Seconds since the epoch.
    #[serde(default)]
    date_unix: u64,
}

/// ElevenLabs: speech (with word timings); the key goes in `xi-api-key`.
pub static PROTOCOL: super::Protocol = super::Protocol {
    auth: |key| crate::providers::http::Auth::Header("xi-api-key", key),
    check_path: Some("v1/voices"),
    chat: None,
    vision: None,
    image: None,
    video: None,
    speech: Some(|backend, model, _| Ok(Arc::new(ElevenLabsSpeech { backend, model }))),
    transcription: None,
    music: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn al(chars: &str, step: f64) -> Alignment {
        let characters: Vec<String> = chars.chars().map(|c| c.to_string()).collect();
        let n = characters.len();
        Alignment {
            characters,
            character_start_times_seconds: (0..n).map(|i| i as f64 * step).collect(),
            character_end_times_seconds: (0..n).map(|i| (i + 1) as f64 * step).collect(),
        }
    }

    #[test]
    fn characters_become_words() {
        let w = words_of(&al("Hi, you — there", 0.1)).unwrap();
        assert_eq!(w.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["Hi,", "you", "there"]);
        assert!((w[1].start_s - 0.4).abs() < 1e-9 && (w[1].end_s - 0.7).abs() < 1e-9);
        let mut bad = al("ab", 0.1);
        bad.character_end_times_seconds.pop();
        assert!(words_of(&bad).is_err());
    }
}
