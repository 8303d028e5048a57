//! `config.toml`: every setting with its default, loaded and validated.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use super::backends::{BackendSettings, ChainEntry, LimitsSettings, Price, RoleSettings, ROLES};
use thiserror::Error;

use crate::domain::{CaptionMode, CaptionStyle};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("setting {0}")]
    Invalid(String),
    #[error("ADMINT_CONFIG names {0}, which does not exist: create it, or unset ADMINT_CONFIG to use the defaults")]
    Missing(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSettings {
    /// Clips rendered at once.
    pub clip_concurrency: usize,
    /// Director/critic rounds on the story, at most.
    pub story_max_iterations: u32,
    /// Writer/critic rounds on the scenes, at most.
    pub scene_max_iterations: u32,
    /// A critic score (0..10) at or above this ends the refine loop.
    pub critic_threshold: f64,
    /// Tries per clip before it is recorded as failed.
    pub clip_attempts: u32,
    /// Make an animatic before the clips: the keyframes with their camera moves, text,
    /// voice, captions and music at low resolution, approved before anything is paid for.
    pub animatic: bool,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            clip_concurrency: 4,
            story_max_iterations: 3,
            scene_max_iterations: 2,
            critic_threshold: 7.5,
            clip_attempts: 2,
            animatic: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderSettings {
    /// Shorter side of the canvas in pixels: 1080 gives 1920x1080 for 16:9.
    pub short_side: u32,
    pub fps: u32,
    pub intro_s: f64,
    pub outro_s: f64,
    /// x264 preset of the final encode (the offline clips, intermediates, are `ultrafast`).
    pub x264_preset: String,
    pub crf: u32,
    /// Font file for text; empty means fontconfig's default sans.
    pub font: String,
    /// Cuts between clips move by up to three frames to land on the music's beat, when
    /// its tempo is known (the composed bed's is).
    pub cut_on_beat: bool,
    /// The clips' own sound (video models such as Veo 3 make it) is kept this many dB
    /// under its level on the ambience bus; -60 or lower leaves it out. Offline clips
    /// have none.
    pub ambience_db: f64,
}

impl Default for RenderSettings {
    fn default() -> Self {
        RenderSettings {
            short_side: 1080,
            fps: 30,
            intro_s: 1.5,
            outro_s: 2.0,
            x264_preset: "veryfast".into(),
            crf: 20,
            font: String::new(),
            cut_on_beat: true,
            ambience_db: -18.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    /// Story director, critic and scene writer: `offline`.
    pub writer: String,
    pub image: String,
    pub video: String,
    pub vision: String,
    /// Voiceover: `offline` (ffmpeg's flite voice) or `none`.
    pub speech: String,
    /// Word timings for the captions when the voice gives none: `none` (admint's own
    /// aligner) or an OpenAI-compatible transcription model (`openai:whisper-1`).
    pub transcription: String,
    /// The music bed when the brief brings no music: `offline` (composed by admint) or
    /// `none` (silent).
    pub music: String,
    /// Deprecated: the old name of `scoring.backend`, still read from older configs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scorer: Option<String>,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            writer: "offline".into(),
            image: "offline".into(),
            video: "offline".into(),
            vision: "offline".into(),
            speech: "none".into(),
            transcription: "none".into(),
            music: "offline".into(),
            scorer: None,
        }
    }
}

/// Thresholds of the QC gates (seconds unless named otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateSettings {
    pub black_warn_s: f64,
    pub black_fail_s: f64,
    pub frozen_warn_s: f64,
    pub frozen_fail_s: f64,
    /// Clip or advert length against its plan.
    pub duration_warn_s: f64,
    pub duration_fail_s: f64,
    /// Integrated loudness target (EBU R128; −14 LUFS suits social platforms).
    pub loudness_target_lufs: f64,
    /// Within ± this of the target passes…
    pub loudness_tolerance_lu: f64,
    /// …within ± this warns; further off fails.
    pub loudness_fail_lu: f64,
    /// A silent stretch inside a soundtrack longer than this warns.
    pub silence_warn_s: f64,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            black_warn_s: 0.5,
            black_fail_s: 1.0,
            frozen_warn_s: 1.0,
            frozen_fail_s: 2.0,
            duration_warn_s: 0.1,
            duration_fail_s: 0.5,
            loudness_target_lufs: -14.0,
            loudness_tolerance_lu: 1.0,
            loudness_fail_lu: 3.0,
            silence_warn_s: 2.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringSettings {
    /// `native` (on the CPU, no Python), `vbench` (an external VBench install) or `none`.
    pub backend: String,
    /// Videos scored at once, in the background, beside rendering.
    pub workers: usize,
    /// Dimensions to compute; empty means all seven.
    pub dimensions: Vec<String>,
    /// The external VBench command, one dimension per call. `{videos}` (a folder),
    /// `{dimension}` and `{output}` (a fresh folder) are filled in.
    pub vbench_command: Vec<String>,
    /// Seconds one VBench call may take.
    pub vbench_timeout_s: u64,
    /// Score natively when VBench is missing or fails.
    pub fallback_to_native: bool,
    /// Re-render a clip whose Quality (0..100) is below this; 0 turns the gate off.
    pub regenerate_below: f64,
    /// Renders of one clip at most when regenerating, the first included.
    pub max_attempts: u32,
    pub gates: GateSettings,
}

impl Default for ScoringSettings {
    fn default() -> Self {
        ScoringSettings {
            backend: "native".into(),
            workers: 1,
            dimensions: Vec::new(),
            vbench_command: ["vbench", "evaluate", "--videos_path", "{videos}", "--dimension", "{dimension}", "--mode=custom_input", "--output_path", "{output}"]
                .map(String::from)
                .to_vec(),
            vbench_timeout_s: 1800,
            fallback_to_native: true,
            regenerate_below: 0.0,
            max_attempts: 2,
            gates: GateSettings::default(),
        }
    }
}

/// The ways the UI can draw pictures (`tui.image_protocol`, `:images`): `auto` asks the
/// terminal.
pub const IMAGE_PROTOCOLS: [&str; 6] = ["auto", "kitty", "sixel", "iterm2", "halfblocks", "off"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuiSettings {
    /// `dark`, `light`, `high-contrast`, or a `themes/NAME.toml` of your own.
    pub theme: String,
    /// `auto`, `kitty`, `sixel`, `iterm2`, `halfblocks` or `off`.
    pub image_protocol: String,
    /// Quality scores (0..100) at or above this are good.
    pub quality_good: f64,
    /// At or above this, acceptable; below, poor.
    pub quality_acceptable: f64,
    /// Click to focus and select, wheel to scroll. Off leaves the mouse to the terminal
    /// (tmux copy mode, selecting text without Shift).
    pub mouse: bool,
}

impl Default for TuiSettings {
    fn default() -> Self {
        TuiSettings { theme: "dark".into(), image_protocol: "auto".into(), quality_good: 80.0, quality_acceptable: 60.0, mouse: true }
    }
}

/// The voiceover's captions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptionSettings {
    /// `burn` (drawn on the picture, and written as captions.srt/.vtt), `sidecar` (the
    /// files only) or `off`.
    pub mode: CaptionMode,
    /// `plain` (phrases) or `karaoke` (each word lit as it is spoken).
    pub style: CaptionStyle,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub pipeline: PipelineSettings,
    pub render: RenderSettings,
    pub providers: ProviderSettings,
    pub scoring: ScoringSettings,
    pub captions: CaptionSettings,
    pub tui: TuiSettings,
    /// Remote endpoints by name (built-in names work without a table).
    pub backends: BTreeMap<String, BackendSettings>,
    /// Each role's fallback chain; a role without one uses `providers.ROLE`.
    pub roles: BTreeMap<String, RoleSettings>,
    pub limits: LimitsSettings,
    /// Prices by `BACKEND:MODEL`, over the shipped table.
    pub prices: BTreeMap<String, Price>,
    /// Model input templates by `BACKEND:MODEL` (Replicate and fal inputs differ per
    /// model), over the shipped ones; `"{prompt}"`-style placeholders are filled in.
    pub inputs: BTreeMap<String, serde_json::Value>,
}

impl Settings {
    /// The settings for these paths: a config file named by `ADMINT_CONFIG` must exist;
    /// the default one may be absent.
    pub fn load_for(paths: &super::Paths) -> Result<Settings, ConfigError> {
        if paths.config_named && !paths.config_file.exists() {
            return Err(ConfigError::Missing(paths.config_file.display().to_string()));
        }
        Settings::load(&paths.config_file)
    }

    /// Defaults, overlaid by the config file if it exists, then by `ADMINT_PROFILE`.
    pub fn load(config_file: &Path) -> Result<Settings, ConfigError> {
        let mut s = match std::fs::read_to_string(config_file) {
            Ok(text) => toml::from_str::<Settings>(&text).map_err(|e| ConfigError::Parse {
                path: config_file.display().to_string(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => {
                return Err(ConfigError::Read { path: config_file.display().to_string(), source: e })
            }
        };
        if let Some(old) = s.providers.scorer.take() {
            s.scoring.backend = old;
        }
        if let Ok(p) = std::env::var("ADMINT_PROFILE") {
            s.apply_profile(&p)?;
        }
        s.validate()?;
        Ok(s)
    }

    /// Named profiles: `test` renders tiny and fast (for the test suite).
    pub fn apply_profile(&mut self, name: &str) -> Result<(), ConfigError> {
        match name {
            "" | "default" => {}
            "test" => {
                self.render.short_side = 180;
                self.render.intro_s = 0.5;
                self.render.outro_s = 0.5;
                self.render.x264_preset = "ultrafast".into();
                self.render.crf = 28;
            }
            other => {
                return Err(ConfigError::Invalid(format!(
                    "ADMINT_PROFILE={other} is unknown: use 'default' or 'test'"
                )))
            }
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if !(16..=4320).contains(&self.render.short_side) {
            return bad(format!("render.short_side = {} must be within 16..=4320", self.render.short_side));
        }
        if !(1..=120).contains(&self.render.fps) {
            return bad(format!("render.fps = {} must be within 1..=120", self.render.fps));
        }
        if !(0.0..=10.0).contains(&self.render.intro_s) || !(0.0..=10.0).contains(&self.render.outro_s) {
            return bad("render.intro_s and render.outro_s must be within 0..=10 seconds".into());
        }
        if self.pipeline.clip_concurrency == 0 {
            return bad("pipeline.clip_concurrency must be at least 1".into());
        }
        if !IMAGE_PROTOCOLS.contains(&self.tui.image_protocol.as_str()) {
            return bad(format!("tui.image_protocol = \"{}\": use {}", self.tui.image_protocol, IMAGE_PROTOCOLS.join(", ")));
        }
        if self.pipeline.clip_attempts == 0 {
            return bad("pipeline.clip_attempts must be at least 1".into());
        }
        if self.limits.remote_jobs == 0 {
            return bad("limits.remote_jobs must be at least 1".into());
        }
        for (name, b) in &self.backends {
            b.resolved(name).map_err(ConfigError::Invalid)?;
        }
        for (role, r) in &self.roles {
            if !ROLES.contains(&role.as_str()) {
                return bad(format!("roles.{role}: unknown role; use one of {}", ROLES.join(", ")));
            }
            if r.chain.is_empty() {
                return bad(format!("roles.{role}.chain is empty: list at least one model, or \"offline\""));
            }
            for entry in &r.chain {
                if let ChainEntry::Remote { backend, .. } = ChainEntry::parse(entry).map_err(|e| ConfigError::Invalid(format!("roles.{role}.chain: {e}")))? {
                    self.backend(&backend).map_err(ConfigError::Invalid)?;
                }
            }
        }
        Ok(())
    }

    /// A role's chain: `[roles.ROLE] chain`, else the single `providers.ROLE`.
    pub fn chain(&self, role: &str) -> Vec<String> {
        if let Some(r) = self.roles.get(role) {
            return r.chain.clone();
        }
        let p = &self.providers;
        let single = match role {
            "writer" => &p.writer,
            "image" => &p.image,
            "video" => &p.video,
            "vision" => &p.vision,
            "speech" => &p.speech,
            "transcription" => &p.transcription,
            "music" => &p.music,
            _ => return vec![],
        };
        if single.is_empty() || single == "none" {
            vec![]
        } else {
            vec![single.clone()]
        }
    }

    /// A backend's resolved settings, from `[backends.NAME]` or the built-in table.
    pub fn backend(&self, name: &str) -> Result<BackendSettings, String> {
        match self.backends.get(name) {
            Some(b) => b.resolved(name),
            None if super::backends::builtin(name).is_some() => BackendSettings::default().resolved(name),
            None => Err(format!(
                "no backend named \"{name}\": add a [backends.{name}] table with a kind, or use a built-in one (openai, ollama, vllm, llamacpp, lmstudio, openrouter, replicate, fal, comfyui, gemini)"
            )),
        }
    }
}

#[cfg(test)]
mod scoring_compat_tests {
    use super::*;

    #[test]
    fn the_old_providers_scorer_key_still_picks_the_backend() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.toml");
        std::fs::write(&f, "[providers]\nscorer = \"none\"\n").unwrap();
        let s = Settings::load(&f).unwrap();
        assert_eq!(s.scoring.backend, "none");
        assert_eq!(s.providers.scorer, None);
        assert_eq!(Settings::default().scoring.backend, "native");
    }
}
