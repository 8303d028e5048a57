//! Model providers behind traits. The pipeline knows them only through these traits.
//!
//! Media models follow the shape of remote job APIs (Replicate, fal, ComfyUI): `submit`
//! returns either a finished result or a `JobRef` that `status` polls and a resumed run
//! re-attaches to; `wait_job` does the polling with backoff and Retry-After. The embedded
//! offline backends finish inside `submit`.

pub mod attribution;
mod chain;
mod error;
pub mod http;
mod job;
mod meter;
pub mod llm;
mod models;
pub mod offline;
pub mod pricing;
mod registry;
pub mod remote;
mod roles;

pub use chain::Chain;
pub use error::ProviderError;
pub use job::*;
pub use meter::{CostMeter, Metered};
pub use models::*;
pub use registry::ProviderSet;
pub use roles::*;
