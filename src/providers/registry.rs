use std::sync::Arc;

use super::offline::{CameraAnimator, CardPainter, FliteVoice, PixelAnalyst, RubricCritic, TemplateWriter};
use super::{Chain, Analyst, ChatModel, Critic, ImageModel, ProviderError, SceneWriter, SpeechModel, StoryDirector, VideoModel};
use crate::config::Settings;
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

fn unknown(kind: &str, name: &str, known: &str) -> ProviderError {
    ProviderError::Config(format!("providers.{kind} = \"{name}\" is not available in this build; use {known}"))
}

impl ProviderSet {
    pub fn from_settings(settings: &Settings, ffmpeg: &Ffmpeg) -> Result<ProviderSet, ProviderError> {
        let p = &settings.providers;
        let writer = TemplateWriter;
        if p.writer != "offline" {
            return Err(unknown("writer", &p.writer, "\"offline\""));
        }
        let image: Arc<ImageModel> = match p.image.as_str() {
            "offline" => Arc::new(CardPainter { ffmpeg: ffmpeg.clone(), font: settings.render.font.clone() }),
            other => return Err(unknown("image", other, "\"offline\"")),
        };
        let video: Arc<VideoModel> = match p.video.as_str() {
            "offline" => Arc::new(CameraAnimator {
                ffmpeg: ffmpeg.clone(),
                x264_preset: settings.render.x264_preset.clone(),
                crf: settings.render.crf,
            }),
            other => return Err(unknown("video", other, "\"offline\"")),
        };
        let analyst: Arc<dyn Analyst> = match p.vision.as_str() {
            "offline" => Arc::new(PixelAnalyst),
            other => return Err(unknown("vision", other, "\"offline\"")),
        };
        let speech: Option<Arc<dyn SpeechModel>> = match p.speech.as_str() {
            "none" | "" => None,
            "offline" => Some(Arc::new(FliteVoice { ffmpeg: ffmpeg.clone() })),
            other => return Err(unknown("speech", other, "\"offline\" or \"none\"")),
        };
        Ok(ProviderSet {
            director: Arc::new(writer.clone()),
            critic: Arc::new(RubricCritic),
            scene_writer: Arc::new(writer),
            analyst,
            image: Chain::one(image),
            video: Chain::one(video),
            speech,
            chat: None,
        })
    }
}
