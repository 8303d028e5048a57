//! Remote backends, role chains, limits and prices in the config file:
//!
//! ```toml
//! [roles.video]
//! chain = ["replicate:google/veo-3-fast", "comfyui:wan-i2v", "offline"]
//!
//! [backends.comfyui]
//! base_url = "http://gpu-box:8188"
//!
//! [prices."replicate:google/veo-3-fast"]
//! per_second = 0.15
//! ```

use serde::{Deserialize, Serialize};

/// The protocols admint speaks. Each kind is one module in `providers/remote/`, and
/// `providers::remote::protocol` is the one match that maps a kind to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// OpenAI-compatible servers: api.openai.com, OpenRouter, Ollama, vLLM, llama.cpp…
    OpenAi,
    Replicate,
    Fal,
    ComfyUi,
    Gemini,
    /// ElevenLabs: speech with word timings.
    ElevenLabs,
}

impl BackendKind {
    pub const ALL: [BackendKind; 6] = [BackendKind::OpenAi, BackendKind::Replicate, BackendKind::Fal, BackendKind::ComfyUi, BackendKind::Gemini, BackendKind::ElevenLabs];

    pub fn id(self) -> &'static str {
        match self {
            BackendKind::OpenAi => "openai",
            BackendKind::Replicate => "replicate",
            BackendKind::Fal => "fal",
            BackendKind::ComfyUi => "comfyui",
            BackendKind::Gemini => "gemini",
            BackendKind::ElevenLabs => "elevenlabs",
        }
    }

    pub fn parse(s: &str) -> Option<BackendKind> {
        BackendKind::ALL.into_iter().find(|k| k.id() == s)
    }

    /// Whether calls cost money when the config does not say: yes for the public APIs,
    /// no for a ComfyUI box and for OpenAI-compatible servers other than OpenAI's and
    /// OpenRouter's.
    fn paid_by_default(self, base_url: &str) -> bool {
        match self {
            BackendKind::ComfyUi => false,
            BackendKind::OpenAi => base_url.contains("api.openai.com") || base_url.contains("openrouter.ai"),
            BackendKind::Replicate | BackendKind::Fal | BackendKind::Gemini | BackendKind::ElevenLabs => true,
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The roles a chain can be set for.
pub const ROLES: [&str; 7] = ["writer", "image", "video", "vision", "speech", "transcription", "music"];

/// One remote endpoint. Every field has a default for its kind, so `[backends.x]` only
/// needs what differs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendSettings {
    /// `openai`, `replicate`, `fal`, `comfyui`, `gemini` or `elevenlabs`; empty means the
    /// table's name.
    pub kind: String,
    /// Empty means the kind's public endpoint (ComfyUI: `http://127.0.0.1:8188`).
    pub base_url: String,
    /// The environment variable holding the key; empty means the kind's usual one
    /// (`OPENAI_API_KEY`, `REPLICATE_API_TOKEN`, `FAL_KEY`, `GEMINI_API_KEY`,
    /// `ELEVENLABS_API_KEY`), `"none"`
    /// means no key (a local server).
    pub api_key_env: String,
    /// ComfyUI behind a proxy: `bearer` (the key is the token) or `basic` (with `user`).
    pub auth: String,
    pub user: String,
    /// Jobs at once on this backend; 0 means 4.
    pub concurrency: usize,
    /// Seconds one HTTP request may take; 0 means 120.
    pub timeout_s: u64,
    /// Replicate `Prefer: wait` seconds (1..60); unset or 0 means poll only (the
    /// default: a create that answers at once leaves a crash the least to cut off).
    pub wait_s: Option<u64>,
    /// First poll after this many milliseconds; 0 means the kind's default.
    pub poll_ms: u64,
    /// Tries of a poll, download or cancel; 0 means 5.
    pub retry_attempts: u32,
    /// First retry backoff in milliseconds; 0 means 500.
    pub retry_base_ms: u64,
    /// `Retry-After` is obeyed up to this many seconds; 0 means 120.
    pub max_retry_after_s: u64,
    /// Largest download accepted, in MiB; 0 means the default per kind of media.
    pub max_download_mb: u64,
    /// fal: the platform API whose request list finds a request a crash cut off; empty
    /// means `https://api.fal.ai/v1`.
    pub platform_url: String,
    /// fal: how long `resume` waits for a cut-off request to show in that list (fal lists
    /// a request once it has ended) before submitting again; 0 means 300.
    pub find_wait_s: u64,
    /// Whether calls cost money; unset means yes for the public APIs, no for ComfyUI
    /// and for OpenAI-compatible servers that are not api.openai.com.
    pub paid: Option<bool>,
    /// OpenAI-compatible chat: the structured-output level to start from —
    /// `json_schema`, `json_object` or `prompt` (the schema in the prompt only); empty
    /// means `json_schema`, stepping down when the server names the format in an error.
    pub structured_output: String,
    /// OpenAI-compatible chat: the most tokens any answer may take; 0 means each call's
    /// own bound (600 to 3000, by what it asks for).
    pub max_tokens: u32,
}

/// A role's models, tried in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleSettings {
    /// `"offline"` or `"BACKEND:MODEL"` (MODEL is a ComfyUI workflow name for ComfyUI).
    pub chain: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSettings {
    /// Remote jobs in flight at once, across all backends.
    pub remote_jobs: usize,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        LimitsSettings { remote_jobs: 8 }
    }
}

/// What a model costs, in US dollars. Every part that applies is added up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Price {
    pub per_call: f64,
    pub per_image: f64,
    /// Per second of video produced.
    pub per_second: f64,
    /// Per second the model ran (Replicate's `metrics.predict_time` on hardware pricing).
    pub per_predict_second: f64,
    /// Seconds of compute one call is expected to take (for estimates on hardware pricing).
    pub expected_predict_s: f64,
    pub per_1m_input_tokens: f64,
    pub per_1m_output_tokens: f64,
    /// Speech: per 1000 characters of text.
    pub per_1k_characters: f64,
    /// Transcription: per minute of audio.
    pub per_audio_minute: f64,
}

/// A chain entry split into backend and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEntry {
    Offline,
    Remote { backend: String, model: String },
}

impl ChainEntry {
    pub fn parse(s: &str) -> Result<ChainEntry, String> {
        let s = s.trim();
        if s == "offline" {
            return Ok(ChainEntry::Offline);
        }
        match s.split_once(':') {
            Some((b, m)) if !b.is_empty() && !m.trim().is_empty() => Ok(ChainEntry::Remote { backend: b.to_string(), model: m.trim().to_string() }),
            _ => Err(format!("\"{s}\" is not a chain entry: use \"offline\" or \"BACKEND:MODEL\" (for example \"replicate:google/veo-3-fast\")")),
        }
    }
}

impl BackendSettings {
    /// The settings with every default of `name`'s kind filled in.
    pub fn resolved(&self, name: &str) -> Result<BackendSettings, String> {
        let mut b = self.clone();
        if b.kind.is_empty() {
            b.kind = builtin(name).map(|d| d.kind).unwrap_or_default();
        }
        let Some(kind) = BackendKind::parse(&b.kind) else {
            let all: Vec<&str> = BackendKind::ALL.iter().map(|k| k.id()).collect();
            return Err(format!("backends.{name}: kind \"{}\" is unknown; use one of {}", b.kind, all.join(", ")));
        };
        let d = builtin(name).filter(|d| d.kind == b.kind).or_else(|| builtin(&b.kind)).unwrap_or_default();
        if b.base_url.is_empty() {
            b.base_url = d.base_url;
        }
        if b.api_key_env.is_empty() {
            b.api_key_env = d.api_key_env;
        }
        if b.auth.is_empty() {
            b.auth = if b.api_key_env == "none" { "none".into() } else { "bearer".into() };
        }
        if !["none", "bearer", "basic"].contains(&b.auth.as_str()) {
            return Err(format!("backends.{name}: auth \"{}\" is unknown; use none, bearer or basic", b.auth));
        }
        if !["", "json_schema", "json_object", "prompt"].contains(&b.structured_output.as_str()) {
            return Err(format!("backends.{name}: structured_output \"{}\" is unknown; use json_schema, json_object or prompt", b.structured_output));
        }
        if b.max_tokens != 0 && !(64..=131_072).contains(&b.max_tokens) {
            return Err(format!("backends.{name}: max_tokens = {} must be within 64..=131072 (or 0 for each call's own bound)", b.max_tokens));
        }
        if b.concurrency == 0 {
            b.concurrency = 4;
        }
        if b.timeout_s == 0 {
            b.timeout_s = 120;
        }
        if b.paid.is_none() {
            b.paid = Some(kind.paid_by_default(&b.base_url));
        }
        Ok(b)
    }

    /// The protocol of settings that went through `resolved` (which refuses any other).
    pub fn backend_kind(&self) -> Option<BackendKind> {
        BackendKind::parse(&self.kind)
    }
}

/// The backends admint knows without any config.
pub fn builtin(name: &str) -> Option<BackendSettings> {
    let b = |kind: &str, url: &str, key: &str| BackendSettings { kind: kind.into(), base_url: url.into(), api_key_env: key.into(), ..Default::default() };
    Some(match name {
        "openai" => b("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
        "openrouter" => b("openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
        "ollama" => b("openai", "http://127.0.0.1:11434/v1", "none"),
        "vllm" => b("openai", "http://127.0.0.1:8000/v1", "none"),
        "llamacpp" => b("openai", "http://127.0.0.1:8080/v1", "none"),
        "lmstudio" => b("openai", "http://127.0.0.1:1234/v1", "none"),
        "replicate" => b("replicate", "https://api.replicate.com", "REPLICATE_API_TOKEN"),
        "fal" => b("fal", "https://queue.fal.run", "FAL_KEY"),
        "comfyui" => b("comfyui", "http://127.0.0.1:8188", "none"),
        "gemini" => b("gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY"),
        "elevenlabs" => b("elevenlabs", "https://api.elevenlabs.io", "ELEVENLABS_API_KEY"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_entries_parse_or_say_why_not() {
        assert_eq!(ChainEntry::parse("offline"), Ok(ChainEntry::Offline));
        assert_eq!(
            ChainEntry::parse("replicate:google/veo-3-fast"),
            Ok(ChainEntry::Remote { backend: "replicate".into(), model: "google/veo-3-fast".into() })
        );
        assert!(ChainEntry::parse("veo").unwrap_err().contains("BACKEND:MODEL"));
    }

    #[test]
    fn a_named_backend_gets_its_kinds_defaults() {
        let own = BackendSettings { kind: "openai".into(), base_url: "http://box:8000/v1".into(), api_key_env: "none".into(), ..Default::default() };
        let r = own.resolved("my-vllm").unwrap();
        assert_eq!((r.auth.as_str(), r.paid, r.concurrency), ("none", Some(false), 4));
        let rep = BackendSettings::default().resolved("replicate").unwrap();
        assert_eq!((rep.base_url.as_str(), rep.api_key_env.as_str(), rep.paid), ("https://api.replicate.com", "REPLICATE_API_TOKEN", Some(true)));
        assert!(BackendSettings::default().resolved("mystery").unwrap_err().contains("kind"));
    }
}
