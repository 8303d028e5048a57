//! The writing roles and the vision analyst as prompts (from `prompts/`) sent to a chat
//! or vision model, with the answers parsed and checked; also the intent reader.

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

use super::json::extract_json;
use crate::config::{FrameworkSpec, Resources};
use crate::domain::{Analysis, Beat, Brief, CameraMove, ConsistencyContext, Critique, ReferenceKind, Scene, Story, TransitionStyle};
use crate::providers::offline::PixelAnalyst;
use crate::providers::{
    Analyst, ChatModel, ChatRequest, Critic, IntentReader, IntentReading, MediaRef, ProviderError, SceneInput, SceneWriter, StoryDirector, StoryInput, VisionModel,
};

/// Director, critic and scene writer backed by a chat model.
#[derive(Clone)]
pub struct LlmRoles {
    pub chat: Arc<dyn ChatModel>,
    pub resources: Resources,
}

fn prompt_err(e: crate::config::PromptError) -> ProviderError {
    ProviderError::Config(e.to_string())
}

impl LlmRoles {
    /// Render `prompt` with `vars`, ask, parse. An unusable answer (malformed or cut-off
    /// JSON, or a server saying its output did not fit the format) is asked for once
    /// more: with the error, another seed (the same request would get the same answer)
    /// and, when the answer was cut off, room for a longer one.
    pub async fn ask<T: DeserializeOwned>(&self, prompt: &str, vars: serde_json::Value, seed: u64) -> Result<T, ProviderError> {
        let user = self.resources.render_prompt(prompt, &vars).map_err(prompt_err)?;
        let system = self.resources.render_prompt("system", json!({})).map_err(prompt_err)?;
        let max_tokens = super::schema::max_tokens_for(prompt);
        let mut req = ChatRequest { system, user, json_schema: super::schema::for_prompt(prompt), temperature: 0.7, seed, max_tokens };
        let (error, truncated) = match self.chat.complete(&req).await {
            Ok(first) => match extract_json::<T>(&first.text) {
                Ok(v) => return Ok(v),
                Err(e) => (e.to_string(), first.truncated),
            },
            // The server gave up on its own answer (a grammar it could not fill before
            // the context ran out): a cut-off answer by another name.
            Err(ProviderError::Malformed(m)) => (m, true),
            Err(e) => return Err(e),
        };
        tracing::warn!(prompt, error, truncated, "unusable answer, asking for a repair");
        let repair = json!({ "original": req.user, "error": error, "truncated": truncated });
        req.user = self.resources.render_prompt("repair", repair).map_err(prompt_err)?;
        req.seed = req.seed.wrapping_add(0x9e37_79b9);
        if truncated {
            req.max_tokens = super::schema::max_tokens_after_cut(max_tokens);
        }
        let unusable = |e: String| ProviderError::Protocol(format!("{prompt}: the chat model ({}) returned unusable JSON twice: {e}", self.chat.id()));
        match self.chat.complete(&req).await {
            Ok(second) => extract_json::<T>(&second.text).map_err(|e| unusable(e.to_string())),
            Err(ProviderError::Malformed(m)) => Err(unusable(m)),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl IntentReader for LlmRoles {
    async fn read(&self, stage: &str, scene_count: usize, text: &str) -> Result<IntentReading, ProviderError> {
        self.ask("intent", json!({ "stage": stage, "scene_count": scene_count, "text": text }), 0).await
    }
}

#[derive(Deserialize)]
struct StoryJson {
    title: String,
    logline: String,
    beats: Vec<Beat>,
}

#[derive(Deserialize)]
struct CritiqueJson {
    score: f64,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    suggestions: Vec<String>,
}

impl From<CritiqueJson> for Critique {
    fn from(c: CritiqueJson) -> Critique {
        Critique { score: c.score.clamp(0.0, 10.0), reasons: c.reasons, suggestions: c.suggestions }
    }
}

#[derive(Deserialize)]
struct SceneJson {
    description: String,
    duration_s: f64,
    #[serde(default)]
    shot_type: String,
    #[serde(default)]
    camera: String,
    #[serde(default = "half")]
    motion_intensity: f32,
    #[serde(default)]
    on_screen_text: String,
    #[serde(default)]
    voiceover: String,
    /// How the scene comes in (`cut`, `dissolve 0.6`, …); the tone's usual one when absent.
    #[serde(default)]
    transition: String,
}

fn half() -> f32 {
    0.5
}

#[derive(Deserialize)]
struct ScenesJson {
    scenes: Vec<SceneJson>,
}

#[derive(Deserialize)]
struct CohesionJson {
    #[serde(default)]
    notes: Vec<String>,
    scenes: Vec<SceneJson>,
}

fn to_scenes(raw: Vec<SceneJson>, ids: impl Fn(usize) -> u32, style: TransitionStyle) -> Result<Vec<Scene>, ProviderError> {
    if raw.is_empty() {
        return Err(ProviderError::Protocol("the model returned no scenes".into()));
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, s)| {
            if !s.duration_s.is_finite() || s.duration_s <= 0.0 {
                return Err(ProviderError::Protocol(format!("scene {} has duration {}", i + 1, s.duration_s)));
            }
            Ok(Scene {
                id: ids(i),
                description: s.description,
                duration_s: (s.duration_s * 2.0).round().max(1.0) / 2.0,
                shot_type: if s.shot_type.is_empty() { "medium".into() } else { s.shot_type },
                camera: s.camera.parse().unwrap_or(CameraMove::ZoomIn),
                motion_intensity: s.motion_intensity.clamp(0.0, 1.0),
                on_screen_text: s.on_screen_text,
                voiceover: s.voiceover,
                transition: s.transition.parse().unwrap_or(if i == 0 { style.opening } else { style.within_stage }),
            })
        })
        .collect()
}

#[async_trait]
impl StoryDirector for LlmRoles {
    fn id(&self) -> String {
        format!("llm-director/{}", self.chat.id())
    }

    async fn draft(&self, input: &StoryInput<'_>) -> Result<Story, ProviderError> {
        let vars = json!({
            "brief": input.brief, "framework": input.framework, "template": input.template,
            "previous": input.previous, "critique": input.critique, "feedback": input.feedback,
        });
        let s: StoryJson = self.ask("story_director", vars, input.brief.seed ^ input.variation).await?;
        if s.beats.is_empty() {
            return Err(ProviderError::Protocol("the story has no beats".into()));
        }
        Ok(Story { title: s.title, framework: input.brief.framework, template: input.template.id.clone(), logline: s.logline, beats: s.beats, revision: input.revision })
    }
}

#[async_trait]
impl Critic for LlmRoles {
    fn id(&self) -> String {
        format!("llm-critic/{}", self.chat.id())
    }

    async fn story(&self, brief: &Brief, framework: &FrameworkSpec, story: &Story) -> Result<Critique, ProviderError> {
        let c: CritiqueJson = self.ask("story_critic", json!({ "brief": brief, "framework": framework, "story": story }), brief.seed).await?;
        Ok(c.into())
    }

    async fn scenes(&self, brief: &Brief, scenes_s: f64, scenes: &[Scene]) -> Result<Critique, ProviderError> {
        let c: CritiqueJson = self.ask("scene_critic", json!({ "brief": brief, "scenes_s": scenes_s, "scenes": scenes, "wps": brief.wps() }), brief.seed).await?;
        Ok(c.into())
    }
}

#[async_trait]
impl SceneWriter for LlmRoles {
    fn id(&self) -> String {
        format!("llm-writer/{}", self.chat.id())
    }

    async fn write(&self, input: &SceneInput<'_>) -> Result<Vec<Scene>, ProviderError> {
        let scene_count = ((input.scenes_s / 5.0).round() as usize).clamp(input.framework.stages.len().min(4), 12);
        let feedback_scene = input.feedback.and_then(|(id, _)| id).and_then(|id| input.previous.and_then(|p| p.iter().position(|s| s.id == id)).map(|p| p + 1));
        let vars = json!({
            "brief": input.brief, "story": input.story, "context": input.context, "scene_count": scene_count, "scenes_s": input.scenes_s,
            "previous": input.previous, "critique": input.critique,
            "feedback": input.feedback.map(|(_, t)| t), "feedback_scene": feedback_scene, "wps": input.brief.wps(),
        });
        let raw: ScenesJson = self.ask("scene_writer", vars, input.brief.seed ^ input.variation).await?;
        // Revisions keep the ids of the scenes they revise, position by position.
        let prev_ids: Vec<u32> = input.previous.map(|p| p.iter().map(|s| s.id).collect()).unwrap_or_default();
        let next = input.first_id.max(prev_ids.iter().max().map_or(0, |m| m + 1));
        let style = TransitionStyle::for_tone(input.template.tone_for(input.brief));
        to_scenes(raw.scenes, |i| prev_ids.get(i).copied().unwrap_or(next + i as u32), style)
    }

    async fn cohere(&self, brief: &Brief, context: &ConsistencyContext, scenes: &[Scene]) -> Result<(Vec<Scene>, Vec<String>), ProviderError> {
        let raw: CohesionJson = self.ask("scene_cohesor", json!({ "brief": brief, "context": context, "scenes": scenes }), brief.seed).await?;
        if raw.scenes.len() != scenes.len() {
            return Err(ProviderError::Protocol(format!("cohesion returned {} scenes for {}", raw.scenes.len(), scenes.len())));
        }
        // Cohesion may fix words; timing and camera stay as they were.
        let out = scenes
            .iter()
            .zip(raw.scenes)
            .map(|(orig, fixed)| Scene { description: fixed.description, on_screen_text: fixed.on_screen_text, voiceover: fixed.voiceover, ..orig.clone() })
            .collect();
        Ok((out, raw.notes))
    }

    async fn shorten_voiceover(&self, brief: &Brief, scene: &Scene, max_words: usize) -> Result<String, ProviderError> {
        #[derive(Deserialize)]
        struct Line {
            line: String,
        }
        let vars = json!({ "brief": brief, "line": scene.voiceover, "duration_s": scene.duration_s, "max_words": max_words });
        let l: Line = self.ask("shorten_voiceover", vars, brief.seed).await?;
        // A model that still writes too much is cut to the budget.
        Ok(crate::domain::shorten_line(&l.line, max_words))
    }
}

/// Pixel statistics from the offline analyst, features and style from a vision model.
#[derive(Clone)]
pub struct LlmAnalyst {
    pub vision: Arc<dyn VisionModel>,
    pub resources: Resources,
}

#[derive(Deserialize)]
struct AnalysisJson {
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    style: String,
}

#[async_trait]
impl Analyst for LlmAnalyst {
    fn id(&self) -> String {
        format!("llm-analyst/{}", self.vision.id())
    }

    async fn analyse(&self, image: &Path, kind: ReferenceKind, brief: &Brief) -> Result<Analysis, ProviderError> {
        let mut a = PixelAnalyst.analyse(image, kind, brief).await?;
        let prompt = self
            .resources
            .render_prompt("reference_analyst", json!({ "kind": kind.id(), "product_name": brief.product_name, "palette": a.palette }))
            .map_err(prompt_err)?;
        let system = self.resources.render_prompt("vision_system", json!({})).map_err(prompt_err)?;
        let answer = self.vision.describe(&MediaRef::Local(image.to_path_buf()), &system, &prompt, super::schema::for_prompt("reference_analyst")).await?;
        let j: AnalysisJson = extract_json(&answer.text)?;
        if !j.features.is_empty() {
            a.features = j.features;
        }
        if !j.style.is_empty() {
            a.style = j.style;
        }
        Ok(a)
    }
}
