//! What the UI remembers between runs — the theme chosen with `:theme`, how pictures
//! are drawn (`:images`), folded images,
//! the chat's width — kept in the
//! state folder (`tui.toml`), never written into the user's config.

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Remembered {
    /// The last theme chosen in the UI; it wins over `tui.theme` from the config.
    pub theme: Option<String>,
    /// The chat's images folded to a line each (`f`).
    pub fold_images: bool,
    /// The chat's share of the width, in percent (`<` / `>`), when changed.
    pub chat_pct: Option<u16>,
    /// How pictures are drawn (`:images`); it wins over `tui.image_protocol`.
    pub image_protocol: Option<String>,
}

const FILE: &str = "tui.toml";

impl Remembered {
    /// What was remembered; nothing when the file is missing or unreadable (it is only
    /// a convenience: a broken one is logged and ignored).
    pub fn load(state_dir: &Path) -> Remembered {
        let path = state_dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "ignoring the UI's remembered settings");
                Remembered::default()
            }),
            Err(_) => Remembered::default(),
        }
    }

    /// Write it (to a temporary file, then renamed into place).
    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(state_dir)?;
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        let tmp = state_dir.join(format!("{FILE}.part"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, state_dir.join(FILE))
    }

    /// The theme to start with: the one chosen last, else the config's.
    pub fn theme_or<'a>(&'a self, configured: &'a str) -> &'a str {
        self.theme.as_deref().unwrap_or(configured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_theme_is_remembered_in_the_state_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Remembered::load(dir.path()).theme_or("dark"), "dark");
        Remembered { theme: Some("light".into()), fold_images: true, chat_pct: Some(40), image_protocol: Some("sixel".into()) }.save(dir.path()).unwrap();
        assert!(Remembered::load(dir.path()).fold_images);
        assert_eq!(Remembered::load(dir.path()).theme_or("dark"), "light");
        assert_eq!(Remembered::load(dir.path()).image_protocol.as_deref(), Some("sixel"));
        std::fs::write(dir.path().join(FILE), "theme = [").unwrap();
        assert_eq!(Remembered::load(dir.path()), Remembered::default(), "a broken file is ignored");
    }
}
