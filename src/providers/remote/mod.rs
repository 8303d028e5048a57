//! The remote backends: each speaks one documented protocol over the shared HTTP
//! plumbing in `providers::http`, and is one entry kind of the role chains.
//!
//! Each kind's module ends with its `PROTOCOL`: how the key is sent, how `doctor` checks
//! the endpoint, and the models it offers per role. `protocol` is the one match over
//! `BackendKind`: adding a backend is one module, its mock server and its tests.

mod backend;
pub mod comfyui;
pub mod elevenlabs;
pub mod fal;
pub mod gemini;
pub mod openai;
pub mod replicate;
pub mod template;

pub use backend::{epoch_ms, first_url, holds_input, image_base64, image_data_uri, rfc3339, tqdm_progress, Backend, InputBook, RemoteRequest, FIND_PAGES};

use std::sync::Arc;

use super::http::{Auth, Secret};
use super::{ChatModel, CostMeter, ImageModel, MusicModel, ProviderError, SpeechModel, TranscriptionModel, VideoModel, VisionModel};
use crate::config::{BackendKind, Resources};

/// What a model constructor may need beyond its backend and model name.
pub struct ModelKit<'a> {
    /// Chat and vision calls book their costs here.
    pub meter: Arc<CostMeter>,
    /// Prompts and ComfyUI workflows, with the user's overrides.
    pub resources: &'a Resources,
}

/// Makes one model of a backend: (backend, model name, kit).
pub type Make<T> = fn(Arc<Backend>, String, &ModelKit) -> Result<Arc<T>, ProviderError>;

/// One backend kind: everything admint needs that differs between kinds.
pub struct Protocol {
    /// How a key is sent to this kind (basic auth, when configured, overrides it).
    pub auth: fn(Secret) -> Auth,
    /// A cheap read-only GET that needs the key, for `doctor`; `None` when the kind has
    /// none and any HTTP answer only shows the host is reachable.
    pub check_path: Option<&'static str>,
    pub chat: Option<Make<dyn ChatModel>>,
    pub vision: Option<Make<dyn VisionModel>>,
    pub image: Option<Make<ImageModel>>,
    pub video: Option<Make<VideoModel>>,
    pub speech: Option<Make<dyn SpeechModel>>,
    pub transcription: Option<Make<dyn TranscriptionModel>>,
    pub music: Option<Make<MusicModel>>,
}

/// The protocol of a backend kind.
pub fn protocol(kind: BackendKind) -> &'static Protocol {
    match kind {
        BackendKind::OpenAi => &openai::PROTOCOL,
        BackendKind::Replicate => &replicate::PROTOCOL,
        BackendKind::Fal => &fal::PROTOCOL,
        BackendKind::ComfyUi => &comfyui::PROTOCOL,
        BackendKind::Gemini => &gemini::PROTOCOL,
        BackendKind::ElevenLabs => &elevenlabs::PROTOCOL,
    }
}
