use std::collections::BTreeMap;
use std::sync::Arc;

use super::offline::{CameraAnimator, CardPainter, FliteVoice, PixelAnalyst, RubricCritic, TemplateWriter};
use super::pricing::PriceBook;
use super::remote::fal::Fal;
use super::remote::replicate::Replicate;
use super::remote::{Backend, InputBook};
use super::{Analyst, Chain, ChatModel, Critic, ImageModel, ProviderError, SceneWriter, SpeechModel, StoryDirector, VideoModel};
use crate::config::{ChainEntry, Settings};
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

fn entries(settings: &Settings, role: &str) -> Result<Vec<ChainEntry>, ProviderError> {
    settings.chain(role).iter().map(|e| ChainEntry::parse(e).map_err(|m| ProviderError::Config(format!("roles.{role}: {m}")))).collect()
}

impl ProviderSet {
    pub fn from_settings(settings: &Settings, ffmpeg: &Ffmpeg) -> Result<ProviderSet, ProviderError> {
        let mut backends = Backends {
            settings,
            prices: Arc::new(PriceBook::new(&settings.prices)),
            inputs: Arc::new(InputBook::new(settings)),
            open: BTreeMap::new(),
        };
        let writer = TemplateWriter;
        for e in entries(settings, "writer")? {
            if let ChainEntry::Remote { backend, .. } = e {
                let b = backends.get(&backend)?;
                return Err(unsupported("writer", &b));
            }
        }
        let mut image: Vec<Arc<ImageModel>> = Vec::new();
        for e in entries(settings, "image")? {
            image.push(match e {
                ChainEntry::Offline => Arc::new(CardPainter { ffmpeg: ffmpeg.clone(), font: settings.render.font.clone() }),
                ChainEntry::Remote { backend, model } => {
                    let b = backends.get(&backend)?;
                    match b.settings.kind.as_str() {
                        "replicate" => Arc::new(Replicate { backend: b, model }),
                        "fal" => Arc::new(Fal::new(b, model)),
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
                        _ => return Err(unsupported("video", &b)),
                    }
                }
            });
        }
        let mut analyst: Option<Arc<dyn Analyst>> = None;
        for e in entries(settings, "vision")? {
            match e {
                ChainEntry::Offline => analyst = analyst.or(Some(Arc::new(PixelAnalyst))),
                ChainEntry::Remote { backend, .. } => return Err(unsupported("vision", &*backends.get(&backend)?)),
            }
        }
        let mut speech: Option<Arc<dyn SpeechModel>> = None;
        for e in entries(settings, "speech")? {
            match e {
                ChainEntry::Offline => speech = speech.or(Some(Arc::new(FliteVoice { ffmpeg: ffmpeg.clone() }))),
                ChainEntry::Remote { backend, .. } => return Err(unsupported("speech", &*backends.get(&backend)?)),
            }
        }
        let image = Chain::new(image).ok_or_else(|| ProviderError::Config("roles.image: the chain is empty".into()))?;
        let video = Chain::new(video).ok_or_else(|| ProviderError::Config("roles.video: the chain is empty".into()))?;
        Ok(ProviderSet {
            director: Arc::new(writer.clone()),
            critic: Arc::new(RubricCritic),
            scene_writer: Arc::new(writer),
            analyst: analyst.unwrap_or_else(|| Arc::new(PixelAnalyst)),
            image,
            video,
            speech,
            chat: None,
        })
    }
}
