//! admint: turn a product brief into a finished video advert.
//!
//! Layers (imports only point down): `main.rs` → `cli` | `tui` → `app_env` → `pipeline` →
//! `providers`, `quality` → `media` → `store` → `config` → `domain`. See ARCHITECTURE.md.

pub mod app_env;
pub mod cli;
pub mod config;
pub mod domain;
pub mod media;
pub mod pipeline;
pub mod providers;
pub mod quality;
pub mod signals;
pub mod store;
pub mod text;
pub mod tui;
