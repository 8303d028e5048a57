//! Settings (TOML, XDG paths), prompt and template loading. Knows nothing of tokio,
//! HTTP or terminals.

mod backends;
mod paths;
mod resources;
mod settings;
mod templates;

pub use backends::*;
pub use paths::{expand_user, Paths};
pub use resources::{render_template, sample_prompt_vars, PromptError, Resources, MEDIA_PROMPT_NAMES, PROMPT_NAMES};
pub use settings::*;
pub use templates::*;
