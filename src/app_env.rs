//! What both front ends start from — the paths, the settings, the log file, the opened
//! store and the pipeline built from them — and the exit codes they share. `main.rs`
//! opens an `AppEnv` and hands it to the chosen front end; neither front end imports the
//! other.

use std::sync::Arc;

use crate::config::{Paths, Settings};
use crate::media::Ffmpeg;
use crate::pipeline::{Pipeline, PipelineError};
use crate::providers::ProviderSet;
use crate::quality::scorer_from_settings;
use crate::store::{Store, StoreError};

/// Exit codes: 0 done, 1 the pipeline failed (or stopped before the end), 2 bad input or
/// usage (nothing written).
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// The exit code a pipeline error ends the process with: the user's input, config or
/// budget exit 2; everything else (including broken invariants) exits 1.
pub fn exit_code(e: &PipelineError) -> u8 {
    match e {
        PipelineError::BadInput(_) | PipelineError::Config(_) | PipelineError::Budget(_) | PipelineError::Command(_) => EXIT_USAGE,
        PipelineError::Store(StoreError::Locked { .. } | StoreError::NoSuchSession(_)) => EXIT_USAGE,
        _ => EXIT_FAILED,
    }
}

/// The environment could not be set up: a broken config, a locked or unreadable store,
/// no ffmpeg. Always the user's to fix (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(pub String);

/// Paths, settings and the opened store: what every command starts from.
pub struct AppEnv {
    pub paths: Paths,
    pub settings: Settings,
    pub store: Arc<Store>,
    _log: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Log to a file under the state dir; never to the terminal.
/// The log file's writer: control characters other than newline and tab (an escape
/// sequence in a prompt or a model's answer) are written as visible escapes, so `tail`
/// or `less -R` on the log cannot be driven by them either.
struct Neutralised<W>(W);

impl<W: std::io::Write> std::io::Write for Neutralised<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !buf.iter().any(|b| (*b < 0x20 && *b != b'\n' && *b != b'\t') || *b == 0x7f) {
            return self.0.write(buf);
        }
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(crate::text::for_terminal(&text, true).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn init_logging(paths: &Paths) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    std::fs::create_dir_all(&paths.state_dir).ok()?;
    let appender = tracing_appender::rolling::never(&paths.state_dir, "admint.log");
    let (writer, guard) = tracing_appender::non_blocking(Neutralised(appender));
    let filter = tracing_subscriber::EnvFilter::try_from_env("ADMINT_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}

impl AppEnv {
    pub fn open() -> Result<AppEnv, EnvError> {
        let paths = Paths::from_env();
        let log = init_logging(&paths);
        let settings = Settings::load_for(&paths).map_err(|e| EnvError(e.to_string()))?;
        let store = Store::open(&paths.data_dir).map_err(|e| EnvError(e.to_string()))?;
        Ok(AppEnv { paths, settings, store: Arc::new(store), _log: log })
    }

    pub fn pipeline(&self) -> Result<Pipeline, EnvError> {
        let ffmpeg = Ffmpeg::locate().map_err(|e| EnvError(e.to_string()))?;
        let providers = ProviderSet::with_config_dir(&self.settings, &ffmpeg, &self.paths.config_dir).map_err(|e| EnvError(e.to_string()))?;
        let scorer = scorer_from_settings(&self.settings.scoring, &ffmpeg).map_err(EnvError)?;
        Ok(Pipeline::new(&self.paths, self.settings.clone(), self.store.clone(), providers, scorer, ffmpeg))
    }
}
