//! What the paid calls of a run (or of what is left of it) should cost, from the chain
//! heads' prices. `--dry-run` prints it; a run refuses to start paid work it cannot afford.

use serde::Serialize;

use crate::config::Settings;
use crate::providers::ProviderSet;
use crate::domain::{Brief, ReferenceKind, SessionState};
use crate::providers::{ChatRequest, ImagePurpose, ImageRequest, VideoRequest};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateLine {
    pub what: String,
    pub model: String,
    pub calls: usize,
    /// `None`: the model is paid and its price is unknown.
    pub usd: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub lines: Vec<EstimateLine>,
}

impl Estimate {
    pub fn total(&self) -> f64 {
        self.lines.iter().filter_map(|l| l.usd).fold(0.0, |a, b| a + b)
    }
    /// Models that cost money at an unknown price.
    pub fn unpriced(&self) -> Vec<String> {
        self.lines.iter().filter(|l| l.usd.is_none()).map(|l| l.model.clone()).collect()
    }
}

/// About what one writing call sends (the brief, the story, the scenes): the basis of
/// chat estimates.
pub(crate) fn typical_writing_call() -> ChatRequest {
    ChatRequest { system: String::new(), user: "x".repeat(6000), json_schema: None, temperature: 0.7, seed: 0, max_tokens: 1500 }
}

/// Scenes expected before the writer has run: about one per 5 s of the `scenes_s` the
/// cards leave them.
pub fn expected_scenes(scenes_s: f64) -> usize {
    ((scenes_s / 5.0).round() as usize).clamp(1, 12)
}

/// The cost of the work `state` still lacks (all of it for a brief with no state yet).
/// Results already cached are not known here, so this errs high.
pub fn estimate(providers: &ProviderSet, settings: &Settings, brief: &Brief, state: Option<&SessionState>) -> Estimate {
    let render = state.and_then(|s| s.render.clone()).unwrap_or_else(|| super::render_spec(&settings.render, brief));
    let (w, h) = (render.width, render.height);
    let scenes_s = render.scenes_s(brief.duration_s);
    let mut lines = Vec::new();
    let mut add = |what: &str, model: String, calls: usize, each: Option<f64>| {
        if calls > 0 {
            lines.push(EstimateLine { what: what.into(), model, calls, usd: each.map(|e| e * calls as f64) });
        }
    };
    if let Some(chat) = &providers.chat {
        if state.is_none_or(|s| s.scenes_approved.is_none()) {
            let pl = &settings.pipeline;
            let calls = (pl.story_max_iterations * 2 + pl.scene_max_iterations * 2 + 1) as usize;
            add("writing (story, scenes, critiques)", chat.id(), calls, chat.estimate_usd(&typical_writing_call()));
        }
    }
    let image = |purpose| ImageRequest { purpose, prompt: brief.prompt.clone(), negative_prompt: String::new(), width: w, height: h, seed: brief.seed, palette: vec![], title: None, init_images: vec![], typeface: None };
    // A mood board makes every generated image `candidates` times.
    let boards = brief.candidates() as usize;
    let refs = boards * ReferenceKind::ALL.iter().filter(|k| state.is_none_or(|s| !s.references.contains_key(k))).count();
    let img_chain = &providers.image;
    add("reference images", img_chain.head().id(), refs, img_chain.estimate_usd(&image(ImagePurpose::Reference { reference: ReferenceKind::Product })));
    let scenes: Vec<(u32, f64)> = match state.filter(|s| !s.scenes.is_empty()) {
        Some(s) => s.scenes.iter().map(|sc| (sc.id, sc.duration_s)).collect(),
        None => {
            let n = expected_scenes(scenes_s);
            (1..=n as u32).map(|i| (i, scenes_s / n as f64)).collect()
        }
    };
    let keyframes = boards * scenes.iter().filter(|(id, _)| state.is_none_or(|s| !s.keyframes.contains_key(id))).count();
    add("keyframes", img_chain.head().id(), keyframes, img_chain.estimate_usd(&image(ImagePurpose::Keyframe { scene_id: 1 })));
    let vid = &providers.video;
    let missing: Vec<f64> = scenes.iter().filter(|(id, _)| state.is_none_or(|s| !s.clips.contains_key(id))).map(|(_, d)| *d).collect();
    if !missing.is_empty() {
        let mut total = Some(0.0);
        for d in &missing {
            let req = VideoRequest { image: Default::default(), prompt: brief.prompt.clone(), negative_prompt: String::new(), camera: Default::default(), motion_intensity: 0.5, duration_s: *d, fps: settings.render.fps, width: w, height: h, seed: brief.seed, take: 0 };
            total = match (total, vid.estimate_usd(&req)) {
                (Some(t), Some(e)) => Some(t + e),
                _ => None,
            };
        }
        add("clips", vid.head().id(), missing.len(), total.map(|t| t / missing.len() as f64));
    }
    // The voiceover (when the brief has one: a configured speech chain, or a named voice),
    // and its transcription for the captions' timings.
    if brief.speech_chain(&providers.speech.as_ref().map(|s| s.id()).unwrap_or_else(|| "none".into())).is_some() {
        let text: String = match state {
            Some(s) if !s.scenes.is_empty() => s.scenes.iter().map(|sc| sc.voiceover.as_str()).collect::<Vec<_>>().join(" "),
            // About one line a scene, at the brief's pace.
            _ => "word ".repeat((brief.duration_s * brief.wps() * 0.8) as usize),
        };
        let req = crate::providers::SpeechRequest { text: text.clone(), voice: brief.voice_name() };
        match &providers.speech {
            Some(speech) => add("voiceover", speech.id(), 1, speech.estimate_usd(&req)),
            None => add("voiceover", crate::domain::OFFLINE_VOICE.to_string(), 1, Some(0.0)),
        }
        if let Some(t) = &providers.transcription {
            let req = crate::providers::TranscriptionRequest { audio: Default::default(), script: text.clone(), language: brief.language.clone(), duration_s: crate::domain::spoken_s(&text, brief.wps()) };
            add("caption timings", t.id(), 1, t.estimate_usd(&req));
        }
    }
    // The music bed, unless the brief brings music or the session has its bed.
    if let (Some(music), None) = (&providers.music, &brief.assets.music) {
        if state.is_none_or(|s| s.music.is_none()) {
            let total = render.total_s(scenes_s);
            let req = super::cut::bed_request(&brief.tone, total, total - render.outro_s, brief.seed);
            add("music bed", music.id(), 1, music.estimate_usd(&req));
        }
    }
    Estimate { lines }
}
