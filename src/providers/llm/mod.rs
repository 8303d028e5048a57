//! The writing roles as prompts (from `prompts/`) sent to any `ChatModel`, with the
//! answers parsed as JSON. A malformed answer gets one repair request, then a clear error.

mod json;
mod prompted;
mod schema;

pub use json::extract_json;
pub use prompted::{LlmAnalyst, LlmRoles};
pub use schema::max_tokens_for;
