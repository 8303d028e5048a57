//! `ProviderSet`: the models one run uses, built from the role chains in the settings.
//! Each chain entry is `offline` or `BACKEND:MODEL`; a backend's kind says which module
//! makes its models (`remote::protocol`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::llm::{LlmAnalyst, LlmRoles};
use super::offline::{CameraAnimator, Designer, FliteVoice, OfflineComposer, PixelAnalyst, RubricCritic, TemplateWriter};
use super::pricing::PriceBook;
use super::remote::{protocol, Backend, InputBook, Make, ModelKit};
use super::{Analyst, Chain, ChatModel, CostMeter, Critic, ImageModel, IntentReader, MusicModel, ProviderError, SceneWriter, SpeechModel, StoryDirector, TranscriptionModel, VideoModel};
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
    /// Word timings for captions when the voice gives none (`None`: admint's aligner).
    pub transcription: Option<Arc<dyn TranscriptionModel>>,
    /// The music bed when the brief brings none (`None`: silent).
    pub music: Option<Chain<MusicModel>>,
    /// A chat model for free-text intents (none offline).
    pub chat: Option<Arc<dyn ChatModel>>,
    /// Reads free-text answers when a chat model is configured.
    pub intent: Option<Arc<dyn IntentReader>>,
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

    /// The models of a role's chain: `offline` makes the local one, `BACKEND:MODEL` asks
    /// the backend kind's protocol for a maker (`which`) of this role.
    fn chain<T: ?Sized>(
        &mut self,
        role: &str,
        kit: &ModelKit,
        which: impl Fn(&'static super::remote::Protocol) -> Option<Make<T>>,
        mut offline: impl FnMut() -> Option<Arc<T>>,
    ) -> Result<Vec<Arc<T>>, ProviderError> {
        let mut out = Vec::new();
        for e in entries(self.settings, role)? {
            match e {
                ChainEntry::Offline => out.extend(offline()),
                ChainEntry::Remote { backend, model } => {
                    let b = self.get(&backend)?;
                    let make = which(protocol(b.kind)).ok_or_else(|| {
                        ProviderError::Config(format!("roles.{role}: a {} backend ({}) has no {role} models in this build", b.kind, b.name))
                    })?;
                    out.push(make(b, model, kit)?);
                }
            }
        }
        Ok(out)
    }
}

fn entries(settings: &Settings, role: &str) -> Result<Vec<ChainEntry>, ProviderError> {
    settings.chain(role).iter().map(|e| ChainEntry::parse(e).map_err(|m| ProviderError::Config(format!("roles.{role}: {m}")))).collect()
}

/// A chain as one model: `None` when empty, the model itself when alone.
fn one_or_chain<T: ?Sized>(mut models: Vec<Arc<T>>) -> Option<Arc<T>>
where
    Chain<T>: Into<Arc<T>>,
{
    match models.len() {
        0 => None,
        1 => models.pop(),
        _ => Chain::new(models).map(Into::into),
    }
}

macro_rules! chain_into_arc {
    ($($t:path),*) => {$(
        impl From<Chain<dyn $t>> for Arc<dyn $t> {
            fn from(c: Chain<dyn $t>) -> Self {
                Arc::new(c)
            }
        }
    )*};
}
chain_into_arc!(ChatModel, SpeechModel, TranscriptionModel, Analyst, StoryDirector, Critic, SceneWriter);

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
        let kit = ModelKit { meter: meter.clone(), resources: &resources };

        // Writing: the chat models, then the template writer and rubric critic if the
        // chain ends in `offline`.
        let mut writer_offline = false;
        let chats = backends.chain::<dyn ChatModel>("writer", &kit, |p| p.chat, || {
            writer_offline = true;
            None
        })?;
        let chat = one_or_chain(chats);
        let llm = chat.clone().map(|chat| Arc::new(LlmRoles { chat, resources: resources.clone() }));
        let directors: Vec<Arc<dyn StoryDirector>> = llm.clone().map(|l| l as Arc<dyn StoryDirector>).into_iter().chain(writer_offline.then(|| Arc::new(TemplateWriter) as Arc<dyn StoryDirector>)).collect();
        let director = one_or_chain(directors).unwrap_or_else(|| Arc::new(TemplateWriter));
        let critics: Vec<Arc<dyn Critic>> = llm.clone().map(|l| l as Arc<dyn Critic>).into_iter().chain(writer_offline.then(|| Arc::new(RubricCritic) as Arc<dyn Critic>)).collect();
        let critic = one_or_chain(critics).unwrap_or_else(|| Arc::new(RubricCritic));
        let writers: Vec<Arc<dyn SceneWriter>> = llm.clone().map(|l| l as Arc<dyn SceneWriter>).into_iter().chain(writer_offline.then(|| Arc::new(TemplateWriter) as Arc<dyn SceneWriter>)).collect();
        let scene_writer = one_or_chain(writers).unwrap_or_else(|| Arc::new(TemplateWriter));
        let intent = llm.map(|l| l as Arc<dyn IntentReader>);

        let image = backends.chain::<ImageModel>("image", &kit, |p| p.image, || Some(Arc::new(Designer { font: settings.render.font.clone() })))?;
        let video = backends.chain::<VideoModel>("video", &kit, |p| p.video, || {
            Some(Arc::new(CameraAnimator { ffmpeg: ffmpeg.clone(), crf: settings.render.crf }))
        })?;

        // Vision: the first remote model reads the image; the pixel analyst stands behind
        // it when the chain says `offline`, and alone when there is no remote model.
        let mut vision_offline = false;
        let visions = backends.chain::<dyn super::VisionModel>("vision", &kit, |p| p.vision, || {
            vision_offline = true;
            None
        })?;
        let llm_analyst = visions.into_iter().next().map(|vision| Arc::new(LlmAnalyst { vision, resources: resources.clone() }) as Arc<dyn Analyst>);
        let analysts: Vec<Arc<dyn Analyst>> = llm_analyst.into_iter().chain(vision_offline.then(|| Arc::new(PixelAnalyst) as Arc<dyn Analyst>)).collect();
        let analyst = one_or_chain(analysts).unwrap_or_else(|| Arc::new(PixelAnalyst));

        let speech = one_or_chain(backends.chain::<dyn SpeechModel>("speech", &kit, |p| p.speech, || Some(Arc::new(FliteVoice { ffmpeg: ffmpeg.clone() })))?);

        // Transcription has no offline model: admint's aligner is what runs without one.
        let transcription = one_or_chain(backends.chain::<dyn TranscriptionModel>("transcription", &kit, |p| p.transcription, || None)?);

        let music = Chain::new(backends.chain::<MusicModel>("music", &kit, |p| p.music, || Some(Arc::new(OfflineComposer)))?);

        let image = Chain::new(image).ok_or_else(|| ProviderError::Config("roles.image: the chain is empty".into()))?;
        let video = Chain::new(video).ok_or_else(|| ProviderError::Config("roles.video: the chain is empty".into()))?;
        Ok(ProviderSet { director, critic, scene_writer, analyst, image, video, speech, transcription, music, chat, intent, meter })
    }
}
