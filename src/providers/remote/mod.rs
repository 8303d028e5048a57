//! The remote backends: each speaks one documented protocol over the shared HTTP
//! plumbing in `providers::http`, and is one entry kind of the role chains.

mod backend;
pub mod comfyui;
pub mod fal;
pub mod gemini;
pub mod openai;
pub mod replicate;
pub mod template;

pub use backend::{first_url, image_base64, image_data_uri, tqdm_progress, Backend, InputBook, RemoteRequest};
