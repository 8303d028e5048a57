//! Plain serde data: the vocabulary of admint. Depends on nothing else in the crate,
//! knows nothing of tokio, HTTP, ffmpeg or terminals.

mod brief;
mod clock;
mod colour;
mod command;
mod event;
mod finishing;
mod look;
mod media;
mod rng;
mod score;
mod state;
mod story;
mod variants;
mod voice;

pub use brief::*;
pub use clock::now_ms;
pub use colour::{colour_name, contrast_ratio, grey_of_luminance, hex_rgb, lab, palette_words, prompt_palette, relative_luminance};
pub use command::*;
pub use event::*;
pub use finishing::*;
pub use look::{followed_look, suggest_look, LookChoice, Tonality};
pub use media::*;
pub use rng::Rng;
pub use score::*;
pub use state::*;
pub use story::*;
pub use variants::*;
pub use voice::*;
