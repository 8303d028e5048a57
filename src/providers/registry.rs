use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::offline::{CameraAnimator, CardPainter, FliteVoice, PixelAnalyst, RubricCritic, TemplateWriter};
use super::pricing::PriceBook;
use super::remote::comfyui::ComfyUi;
use super::remote::fal::Fal;
use super::remote::gemini::{GeminiImage, Veo};
use super::remote::replicate::Replicate;
use super::remote::{Backend, InputBook};
use super::fallback::{AnalystWithFallback, ChatChain, SpeechChain};
use super::llm::{LlmAnalyst, LlmRoles, WriterWithFallback};
use super::remote::openai::{OpenAiChat, OpenAiImages, OpenAiSpeech};
use super::{Analyst, Chain, ChatModel, CostMeter, Critic, ImageModel, ProviderError, SceneWriter, SpeechModel, StoryDirector, VideoModel};
use crate::config::{ChainEntry, Resources, Settings};
use crate::media::Ffmpeg;

/// The providers one run uses, chosen from the settings.
#[derive(Clone)]
pub struct ProviderSet {
    pub director: Arc<dyn StoryDirector>,
    pub critic: Arc<dyn Critic>,
    pub scene_writer: Arc<dyn SceneWriter>,
    pub analyst: Arc<dyn Analyst>,
    pub image: Chain<ImageModel>,
    pub video: Chain<VideoModel>,
    pub speech: Option<Arc<dyn SpeechModel>>,
    /// A chat model for free-text intents (none offline).
    pub chat: Option<Arc<dyn ChatModel>>,
    /// Costs of chat and vision calls, booked by the pipeline to the stage that made them.
    pub meter: Arc<CostMeter>,
}

/// Backends opened once and shared by every model that uses them.
struct Backends<'a> {
    settings: &'a Settings,
    prices: Arc<PriceBook>,
    inputs: Arc<InputBook>,
    open: BTreeMap<String, Arc<Backend>>,
}

impl Backends<'_> {
    fn get(&mut self, name: &str) -> Result<Arc<Backend>, ProviderError> {
        if let Some(b) = self.open.get(name) {
            return Ok(b.clone());
        }
        let b = Backend::open(name, self.settings, self.prices.clone(), self.inputs.clone())?;
        self.open.insert(name.to_string(), b.clone());
        Ok(b)
    }
}

fn unsupported(role: &str, backend: &Backend) -> ProviderError {
    ProviderError::Config(format!("roles.{role}: a {} backend ({}) has no {role} models in this build", backend.settings.kind, backend.name))
}

fn comfy(resources: &Resources, backend: Arc<Backend>, name: String) -> Result<ComfyUi, ProviderError> {
    let (workflow, _) = resources.comfy_workflow(&name).map_err(|e| ProviderError::Config(format!("{}: {e}", backend.name)))?;
    Ok(ComfyUi::new(backend, name, workflow))
}

fn entries(settings: &Settings, role: &str) -> Result<Vec<ChainEntry>, ProviderError> {
    settings.chain(role).iter().map(|e| ChainEntry::parse(e).map_err(|m| ProviderError::Config(format!("roles.{role}: {m}")))).collect()
}

impl ProviderSet {
    pub fn from_settings(settings: &Settings, ffmpeg: &Ffmpeg) -> Result<ProviderSet, ProviderError> {
        Self::with_config_dir(settings, ffmpeg, Path::new("/nonexistent"))
    }

    /// As `from_settings`, with prompt overrides read from `config_dir`.
    pub fn with_config_dir(settings: &Settings, ffmpeg: &Ffmpeg, config_dir: &Path) -> Result<ProviderSet, ProviderError> {
        let mut backends = Backends {
            settings,
            prices: Arc::new(PriceBook::new(&settings.prices)),
            inputs: Arc::new(InputBook::new(settings)),
            open: BTreeMap::new(),
        };
        let meter = Arc::new(CostMeter::default());
        let resources = Resources::new(config_dir);
        let writer = TemplateWriter;
        let mut chats: Vec<Arc<dyn ChatModel>> = Vec::new();
        let mut writer_offline = false;
        for e in entries(settings, "writer")? {
            match e {
                ChainEntry::Offline => writer_offline = true,
                ChainEntry::Remote { backend, model } => {
                    let b = backends.get(&backend)?;
                    match b.settings.kind.as_str() {
                        "openai" => chats.push(Arc::new(OpenAiChat::new(b, model, meter.clone()))),
                        _ => return Err(unsupported("writer", &b)),
                    }
                }
            }
        }
        let chat: Option<Arc<dyn ChatModel>> = match chats.len() {
            0 => None,
            1 => chats.pop(),
            _ => Some(Arc::new(ChatChain(chats))),
        };
        let (director, critic, scene_writer): (Arc<dyn StoryDirector>, Arc<dyn Critic>, Arc<dyn SceneWriter>) = match &chat {
            Some(c) => {
                let w = Arc::new(WriterWithFallback { llm: LlmRoles { chat: c.clone(), resources: resources.clone() }, offline: writer_offline });
                (w.clone(), w.clone(), w)
            }
            None => (Arc::new(writer.clone()), Arc::new(RubricCritic), Arc::new(writer)),
        };
        let mut image: Vec<Arc<ImageModel>> = Vec::new();
        for e in entries(settings, "image")? {
            image.push(match e {
                ChainEntry::Offline => Arc::new(CardPainter { ffmpeg: ffmpeg.clone(), font: settings.render.font.clone() }),
                ChainEntry::Remote { backend, model } => {
                    let b = backends.get(&backend)?;
                    match b.settings.kind.as_str() {
                        "replicate" => Arc::new(Replicate { backend: b, model }),
                        "fal" => Arc::new(Fal::new(b, model)),
                        "openai" => Arc::new(OpenAiImages { backend: b, model }),
                        "comfyui" => Arc::new(comfy(&resources, b, model)?),
                        "gemini" => Arc::new(GeminiImage { backend: b, model }),
                        _ => return Err(unsupported("image", &b)),
                    }
                }
            });
        }
        let mut video: Vec<Arc<VideoModel>> = Vec::new();
        for e in entries(settings, "video")? {
            video.push(match e {
                ChainEntry::Offline => Arc::new(CameraAnimator { ffmpeg: ffmpeg.clone(), x264_preset: settings.render.x264_preset.clone(), crf: settings.render.crf }),
                ChainEntry::Remote { backend, model } => {
                    let b = backends.get(&backend)?;
                    match b.settings.kind.as_str() {
                        "replicate" => Arc::new(Replicate { backend: b, model }),
                        "fal" => Arc::new(Fal::new(b, model)),
                        "comfyui" => Arc::new(comfy(&resources, b, model)?),
                        "gemini" => Arc::new(Veo { backend: b, model }),
                        _ => return Err(unsupported("video", &b)),
                    }
                }
            });
        }
        let mut analyst: Option<Arc<dyn Analyst>> = None;
        let mut vision_offline = false;
        for e in entries(settings, "vision")? {
            match e {
                ChainEntry::Offline => vision_offline = true,
                ChainEntry::Remote { backend, model } => {
                    let b = backends.get(&backend)?;
                    if b.settings.kind != "openai" {
                        return Err(unsupported("vision", &b));
                    }
                    if analyst.is_none() {
                        let vision = Arc::new(OpenAiChat::new(b, model, meter.clone()));
                        analyst = Some(Arc::new(LlmAnalyst { vision, resources: resources.clone() }));
                    }
                }
            }
        }
        let analyst: Arc<dyn Analyst> = match analyst {
            Some(a) if vision_offline => Arc::new(AnalystWithFallback(a)),
            Some(a) => a,
            None => Arc::new(PixelAnalyst),
        };
        let mut speech: Vec<Arc<dyn SpeechModel>> = Vec::new();
        for e in entries(settings, "speech")? {
            speech.push(match e {
                ChainEntry::Offline => Arc::new(FliteVoice { ffmpeg: ffmpeg.clone() }),
                ChainEntry::Remote { backend, model } => {
                    let b = backends.get(&backend)?;
                    match b.settings.kind.as_str() {
                        "openai" => Arc::new(OpenAiSpeech { backend: b, model, voice: "alloy".into() }),
                        _ => return Err(unsupported("speech", &b)),
                    }
                }
            });
        }
        let speech: Option<Arc<dyn SpeechModel>> = match speech.len() {
            0 => None,
            1 => speech.pop(),
            _ => Some(Arc::new(SpeechChain(speech))),
        };
        let image = Chain::new(image).ok_or_else(|| ProviderError::Config("roles.image: the chain is empty".into()))?;
        let video = Chain::new(video).ok_or_else(|| ProviderError::Config("roles.video: the chain is empty".into()))?;
        Ok(ProviderSet { director, critic, scene_writer, analyst, image, video, speech, chat, meter })
    }
}
