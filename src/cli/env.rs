use std::sync::Arc;

use super::CliError;
use crate::config::{Paths, Settings};
use crate::media::Ffmpeg;
use crate::pipeline::Pipeline;
use crate::providers::ProviderSet;
use crate::quality::scorer_from_settings;
use crate::store::Store;

/// Paths, settings and the opened store: what every command starts from.
pub struct AppEnv {
    pub paths: Paths,
    pub settings: Settings,
    pub store: Arc<Store>,
    _log: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Log to a file under the state dir; never to the terminal.
fn init_logging(paths: &Paths) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    std::fs::create_dir_all(&paths.state_dir).ok()?;
    let appender = tracing_appender::rolling::never(&paths.state_dir, "admint.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("ADMINT_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}

impl AppEnv {
    pub fn open() -> Result<AppEnv, CliError> {
        let paths = Paths::from_env();
        let log = init_logging(&paths);
        let settings = Settings::load(&paths.config_file).map_err(|e| CliError::usage(e.to_string()))?;
        let store = Store::open(&paths.data_dir).map_err(|e| CliError::usage(e.to_string()))?;
        Ok(AppEnv { paths, settings, store: Arc::new(store), _log: log })
    }

    pub fn pipeline(&self) -> Result<Pipeline, CliError> {
        let ffmpeg = Ffmpeg::locate().map_err(|e| CliError::usage(e.to_string()))?;
        let providers = ProviderSet::with_config_dir(&self.settings, &ffmpeg, &self.paths.config_dir).map_err(|e| CliError::usage(e.to_string()))?;
        let scorer = scorer_from_settings(&self.settings.scoring, &ffmpeg).map_err(CliError::usage)?;
        Ok(Pipeline::new(&self.paths, self.settings.clone(), self.store.clone(), providers, scorer, ffmpeg))
    }
}
