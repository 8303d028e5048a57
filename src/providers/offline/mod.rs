//! The embedded offline providers: no API keys, no network, just ffmpeg and arithmetic.

mod analyst;
mod animator;
mod composer;
mod critic;
mod painter;
mod voice;
mod words;
mod writer;

pub use analyst::{palette_kmeans, PixelAnalyst};
pub use animator::CameraAnimator;
pub use composer::{OfflineComposer, OFFLINE_COMPOSER};
pub use critic::RubricCritic;
pub use painter::Designer;
pub use voice::FliteVoice;
pub use words::brief_vars;
pub use writer::TemplateWriter;
