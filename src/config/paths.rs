//! Where admint keeps its files: XDG config, data and state folders, each overridable by
//! an environment variable.

use std::env;
use std::path::PathBuf;

/// Where admint keeps its files. XDG everywhere (also on macOS), each overridable.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The config file (`ADMINT_CONFIG`, else `config.toml` in the config folder).
    pub config_file: PathBuf,
    /// True when the config file was named (`ADMINT_CONFIG`): then it must exist.
    pub config_named: bool,
    /// Directory with user overrides of prompts/, templates/ and themes/
    /// (`ADMINT_CONFIG_DIR`, else the named config file's folder, else
    /// `$XDG_CONFIG_HOME/admint`).
    pub config_dir: PathBuf,
    /// Sessions store, cache and blobs (`ADMINT_DATA_DIR`, else `$XDG_DATA_HOME/admint`).
    pub data_dir: PathBuf,
    /// Log files (`ADMINT_STATE_DIR`, else `$XDG_STATE_HOME/admint`).
    pub state_dir: PathBuf,
}

fn home() -> PathBuf {
    directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .or_else(|| env::var_os("HOME").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    match env::var_os(var) {
        Some(v) if !v.is_empty() && PathBuf::from(&v).is_absolute() => PathBuf::from(v),
        _ => home().join(fallback),
    }
}

fn from_env(var: &str) -> Option<PathBuf> {
    env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

impl Paths {
    pub fn from_env() -> Paths {
        let named = from_env("ADMINT_CONFIG");
        let config_dir = from_env("ADMINT_CONFIG_DIR")
            .or_else(|| named.as_ref().and_then(|f| f.parent()).map(|p| p.to_path_buf()))
            .unwrap_or_else(|| xdg("XDG_CONFIG_HOME", ".config").join("admint"));
        Paths {
            config_named: named.is_some(),
            config_file: named.unwrap_or_else(|| config_dir.join("config.toml")),
            config_dir,
            data_dir: from_env("ADMINT_DATA_DIR")
                .unwrap_or_else(|| xdg("XDG_DATA_HOME", ".local/share").join("admint")),
            state_dir: from_env("ADMINT_STATE_DIR")
                .unwrap_or_else(|| xdg("XDG_STATE_HOME", ".local/state").join("admint")),
        }
    }

    /// All paths under one root: for tests and throwaway runs.
    pub fn under(root: &std::path::Path) -> Paths {
        Paths {
            config_file: root.join("config/config.toml"),
            config_named: false,
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            state_dir: root.join("state"),
        }
    }
}
