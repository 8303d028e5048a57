//! Colour themes from TOML: the built-in `themes/` (dark, light, high-contrast) or a
//! user file of the same name in the config dir. NO_COLOR turns colour off; selection
//! stays visible through reverse video and bold.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;

const BUILT_IN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    background: String,
    foreground: String,
    muted: String,
    accent: String,
    border: String,
    border_focused: String,
    selection_bg: String,
    user: String,
    system: String,
    error: String,
    good: String,
    acceptable: String,
    poor: String,
    gauge: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub no_color: bool,
    pub base: Style,
    pub muted: Style,
    pub accent: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selected: Style,
    pub user: Style,
    pub system: Style,
    pub error: Style,
    pub good: Style,
    pub acceptable: Style,
    pub poor: Style,
    pub gauge: Style,
}

fn color(hex: &str) -> Result<Color, String> {
    let t = hex.trim().trim_start_matches('#');
    if t.len() != 6 {
        return Err(format!("'{hex}' is not a #rrggbb colour"));
    }
    let p = |i: usize| u8::from_str_radix(&t[i..i + 2], 16).map_err(|_| format!("'{hex}' is not a #rrggbb colour"));
    Ok(Color::Rgb(p(0)?, p(2)?, p(4)?))
}

impl Theme {
    pub fn names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(n, _)| *n).collect()
    }

    /// A theme by name: the user's `themes/NAME.toml` first, then the built-in one.
    pub fn load(name: &str, config_dir: &Path, no_color: bool) -> Result<Theme, String> {
        let user = config_dir.join("themes").join(format!("{name}.toml"));
        let text = match std::fs::read_to_string(&user) {
            Ok(t) => t,
            Err(_) => BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string())
                .ok_or_else(|| format!("unknown theme '{name}': choose one of {}", Theme::names().join(", ")))?,
        };
        let f: ThemeFile = toml::from_str(&text).map_err(|e| format!("theme {name}: {e}"))?;
        Theme::from_file(f, no_color)
    }

    pub fn default_dark(no_color: bool) -> Theme {
        let f: ThemeFile = toml::from_str(BUILT_IN[0].1).expect("built-in theme parses");
        Theme::from_file(f, no_color).expect("built-in theme is valid")
    }

    fn from_file(f: ThemeFile, no_color: bool) -> Result<Theme, String> {
        if no_color {
            let plain = Style::default();
            return Ok(Theme {
                name: f.name,
                no_color,
                base: plain,
                muted: plain.add_modifier(Modifier::DIM),
                accent: plain.add_modifier(Modifier::BOLD),
                border: plain,
                border_focused: plain.add_modifier(Modifier::BOLD),
                selected: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
                user: plain.add_modifier(Modifier::BOLD),
                system: plain,
                error: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                good: plain.add_modifier(Modifier::BOLD),
                acceptable: plain,
                poor: plain.add_modifier(Modifier::UNDERLINED),
                gauge: plain,
            });
        }
        let fg = |c: &str| -> Result<Style, String> { Ok(Style::default().fg(color(c)?)) };
        Ok(Theme {
            name: f.name.clone(),
            no_color,
            base: Style::default().fg(color(&f.foreground)?).bg(color(&f.background)?),
            muted: fg(&f.muted)?,
            accent: fg(&f.accent)?.add_modifier(Modifier::BOLD),
            border: fg(&f.border)?,
            border_focused: fg(&f.border_focused)?.add_modifier(Modifier::BOLD),
            selected: Style::default().bg(color(&f.selection_bg)?).add_modifier(Modifier::BOLD),
            user: fg(&f.user)?,
            system: fg(&f.system)?,
            error: fg(&f.error)?,
            good: fg(&f.good)?,
            acceptable: fg(&f.acceptable)?,
            poor: fg(&f.poor)?,
            gauge: fg(&f.gauge)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn built_in_themes_load_and_user_files_override() {
        let dir = tempfile::tempdir().unwrap();
        for n in Theme::names() {
            Theme::load(n, dir.path(), false).unwrap();
        }
        assert!(Theme::load("nope", dir.path(), false).unwrap_err().contains("unknown theme"));
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let mut t = include_str!("../../themes/dark.toml").to_string();
        t = t.replace("#7aa2f7", "#010203");
        std::fs::write(dir.path().join("themes/dark.toml"), t).unwrap();
        let th = Theme::load("dark", dir.path(), false).unwrap();
        assert_eq!(th.accent.fg, Some(Color::Rgb(1, 2, 3)));
        assert!(Theme::load("dark", dir.path(), true).unwrap().selected.add_modifier.contains(Modifier::REVERSED));
    }
}
