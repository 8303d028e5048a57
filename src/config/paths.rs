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

/// A path typed by a person, read as a shell would: a leading `~` (or `~/…`) is the home
/// folder, `$VAR` and `${VAR}` are the environment's values. An unset variable is an
/// error, not an empty string (`:export $OUT` must not write to `/`).
pub fn expand_user(text: &str) -> Result<PathBuf, String> {
    let text = text.trim();
    let mut out = String::new();
    let rest = if text == "~" || text.starts_with("~/") {
        out.push_str(&home().display().to_string());
        &text[1..]
    } else {
        text
    };
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let braced = chars.peek() == Some(&'{');
        if braced {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphanumeric() || n == '_' {
                name.push(n);
                chars.next();
            } else {
                break;
            }
        }
        if braced && chars.next() != Some('}') {
            return Err(format!("{text}: '${{' without its '}}'"));
        }
        if name.is_empty() {
            out.push('$');
            continue;
        }
        match env::var(&name) {
            Ok(v) => out.push_str(&v),
            Err(_) => return Err(format!("{text}: the environment variable {name} is not set")),
        }
    }
    Ok(PathBuf::from(out))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_paths_expand_like_a_shell() {
        let home = home().display().to_string();
        assert_eq!(expand_user("~/x").unwrap(), PathBuf::from(format!("{home}/x")));
        assert_eq!(expand_user("~").unwrap(), PathBuf::from(&home));
        assert_eq!(expand_user("a/~b").unwrap(), PathBuf::from("a/~b"));
        std::env::set_var("ADMINT_TEST_EXPAND", "/tmp/out");
        assert_eq!(expand_user("$ADMINT_TEST_EXPAND/v1").unwrap(), PathBuf::from("/tmp/out/v1"));
        assert_eq!(expand_user("${ADMINT_TEST_EXPAND}x").unwrap(), PathBuf::from("/tmp/outx"));
        assert!(expand_user("$ADMINT_TEST_NEVER_SET/x").unwrap_err().contains("ADMINT_TEST_NEVER_SET is not set"));
        assert_eq!(expand_user("cost$").unwrap(), PathBuf::from("cost$"));
    }
}
