//! admint: turn a product brief into a finished video advert.
//!
//! Layers (imports only point down): `cli` → `pipeline` → `providers`, `quality` → `media`,
//! `store` → `config` → `domain`.

pub mod cli;
pub mod config;
pub mod domain;
pub mod media;
pub mod pipeline;
pub mod providers;
pub mod quality;
pub mod store;
pub mod tui;
