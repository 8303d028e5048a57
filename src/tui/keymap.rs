//! Keys → commands, per panel. The same table answers key presses, builds the hint bar
//! and the `?` help overlay, so help never disagrees with the real keys. A user
//! `keymap.toml` in the config dir replaces the keys of the commands it names.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ctx {
    Global,
    Sessions,
    Chat,
    Scenes,
    Progress,
    Quality,
    Input,
}

impl Ctx {
    pub fn title(self) -> &'static str {
        match self {
            Ctx::Global => "Everywhere",
            Ctx::Sessions => "Sessions",
            Ctx::Chat => "Chat",
            Ctx::Scenes => "Scenes",
            Ctx::Progress => "Progress",
            Ctx::Quality => "Quality",
            Ctx::Input => "Prompt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cmd {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    CommandLine,
    Suspend,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    NewSession,
    DeleteSession,
    Refresh,
    Send,
    Newline,
    HistoryPrev,
    HistoryNext,
    Approve,
    EditText,
    EditDescription,
    EditVoiceover,
    CycleCamera,
    CycleTransition,
    DurationUp,
    DurationDown,
    MoveUp,
    MoveDown,
    AddScene,
    RemoveScene,
    RegenerateScene,
    RetryClip,
    Preview,
    Stop,
    CopyPath,
    Undo,
    Redo,
    Search,
    SearchNext,
    SearchPrev,
    Board,
    Animatic,
    PickCamera,
    EditDuration,
    FoldImages,
    FullDescription,
    Narrower,
    Wider,
    Sort,
}

impl Cmd {
    pub fn describe(self) -> &'static str {
        match self {
            Cmd::Quit => "quit",
            Cmd::Help => "help",
            Cmd::FocusNext => "next panel",
            Cmd::FocusPrev => "previous panel",
            Cmd::CommandLine => "command line",
            Cmd::Suspend => "suspend",
            Cmd::Back => "back / close",
            Cmd::Up => "up",
            Cmd::Down => "down",
            Cmd::PageUp => "page up",
            Cmd::PageDown => "page down",
            Cmd::Top => "top",
            Cmd::Bottom => "bottom / follow",
            Cmd::Open => "open / resume",
            Cmd::NewSession => "new advert",
            Cmd::DeleteSession => "delete",
            Cmd::Refresh => "refresh",
            Cmd::Send => "send",
            Cmd::Newline => "new line",
            Cmd::HistoryPrev => "previous message",
            Cmd::HistoryNext => "next message",
            Cmd::Approve => "approve",
            Cmd::EditText => "edit on-screen text",
            Cmd::EditDescription => "edit description",
            Cmd::EditVoiceover => "edit voiceover",
            Cmd::CycleCamera => "camera move",
            Cmd::CycleTransition => "transition in",
            Cmd::DurationUp => "longer",
            Cmd::DurationDown => "shorter",
            Cmd::MoveUp => "move up",
            Cmd::MoveDown => "move down",
            Cmd::AddScene => "add scene",
            Cmd::RemoveScene => "delete scene",
            Cmd::RegenerateScene => "regenerate scene",
            Cmd::RetryClip => "retry clip",
            Cmd::Preview => "preview",
            Cmd::Stop => "stop rendering",
            Cmd::CopyPath => "copy the advert's path",
            Cmd::Undo => "undo a scene change",
            Cmd::Redo => "redo",
            Cmd::Search => "search",
            Cmd::SearchNext => "next match",
            Cmd::SearchPrev => "previous match",
            Cmd::Board => "mood board",
            Cmd::Animatic => "animatic player",
            Cmd::PickCamera => "choose the camera move",
            Cmd::EditDuration => "type the duration",
            Cmd::FoldImages => "fold / unfold images",
            Cmd::FullDescription => "whole description",
            Cmd::Narrower => "narrower chat",
            Cmd::Wider => "wider chat",
            Cmd::Sort => "sort by date, title, score, cost",
        }
    }
}

/// A key with modifiers, parsed from strings like `ctrl-c`, `shift-tab`, `G`, `pgup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeySpec {
    pub fn parse(s: &str) -> Result<KeySpec, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = &rest[rest.len() - r.len()..];
            } else if lower.starts_with("shift-") && rest.len() > 6 {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                mods -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdown" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "delete" | "del" => KeyCode::Delete,
            "backspace" => KeyCode::Backspace,
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => KeyCode::F(f[1..].parse().unwrap_or(1)),
            _ if rest.chars().count() == 1 => KeyCode::Char(rest.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key '{s}'")),
        };
        Ok(KeySpec { code, mods })
    }

    /// Does a key event match? Shift on a character is carried by the character itself.
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let mut mods = ev.modifiers;
        if matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods -= KeyModifiers::SHIFT;
        }
        let code = match (ev.code, self.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) if self.mods.contains(KeyModifiers::CONTROL) => KeyCode::Char(a.to_ascii_lowercase()) == KeyCode::Char(b.to_ascii_lowercase()),
            (a, b) => a == b,
        };
        code && mods == self.mods
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub ctx: Ctx,
    pub cmd: Cmd,
    pub keys: Vec<KeySpec>,
}

const DEFAULTS: &[(Ctx, Cmd, &[&str])] = &[
    (Ctx::Global, Cmd::Help, &["?", "f1"]),
    (Ctx::Global, Cmd::Quit, &["q", "ctrl-c"]),
    (Ctx::Global, Cmd::FocusNext, &["tab"]),
    (Ctx::Global, Cmd::FocusPrev, &["shift-tab"]),
    (Ctx::Global, Cmd::CommandLine, &[":"]),
    (Ctx::Global, Cmd::Suspend, &["ctrl-z"]),
    (Ctx::Global, Cmd::Back, &["esc"]),
    (Ctx::Global, Cmd::Stop, &["ctrl-s"]),
    (Ctx::Global, Cmd::Undo, &["u"]),
    (Ctx::Global, Cmd::Redo, &["ctrl-r"]),
    (Ctx::Global, Cmd::Narrower, &["<"]),
    (Ctx::Global, Cmd::Wider, &[">"]),
    (Ctx::Sessions, Cmd::Up, &["k", "up"]),
    (Ctx::Sessions, Cmd::Down, &["j", "down"]),
    (Ctx::Sessions, Cmd::Open, &["enter", "o"]),
    (Ctx::Sessions, Cmd::NewSession, &["n"]),
    (Ctx::Sessions, Cmd::DeleteSession, &["d", "delete"]),
    (Ctx::Sessions, Cmd::Refresh, &["r"]),
    (Ctx::Sessions, Cmd::Sort, &["s"]),
    (Ctx::Sessions, Cmd::Search, &["/"]),
    (Ctx::Chat, Cmd::Up, &["k", "up"]),
    (Ctx::Chat, Cmd::Down, &["j", "down"]),
    (Ctx::Chat, Cmd::PageUp, &["pgup", "ctrl-u"]),
    (Ctx::Chat, Cmd::PageDown, &["pgdown", "ctrl-d"]),
    (Ctx::Chat, Cmd::Top, &["g", "home"]),
    (Ctx::Chat, Cmd::Bottom, &["G", "end"]),
    (Ctx::Chat, Cmd::Approve, &["a"]),
    (Ctx::Chat, Cmd::Preview, &["p"]),
    (Ctx::Chat, Cmd::CopyPath, &["y"]),
    (Ctx::Chat, Cmd::Search, &["/"]),
    (Ctx::Chat, Cmd::SearchNext, &["n"]),
    (Ctx::Chat, Cmd::SearchPrev, &["N"]),
    (Ctx::Chat, Cmd::Animatic, &["P"]),
    (Ctx::Chat, Cmd::FoldImages, &["f"]),
    (Ctx::Scenes, Cmd::Up, &["k", "up"]),
    (Ctx::Scenes, Cmd::Down, &["j", "down"]),
    (Ctx::Scenes, Cmd::EditText, &["e", "enter"]),
    (Ctx::Scenes, Cmd::EditDescription, &["E"]),
    (Ctx::Scenes, Cmd::EditVoiceover, &["v"]),
    (Ctx::Scenes, Cmd::CycleCamera, &["c"]),
    (Ctx::Scenes, Cmd::PickCamera, &["C"]),
    (Ctx::Scenes, Cmd::CycleTransition, &["t"]),
    (Ctx::Scenes, Cmd::DurationUp, &["+", "="]),
    (Ctx::Scenes, Cmd::DurationDown, &["-"]),
    (Ctx::Scenes, Cmd::EditDuration, &["d"]),
    (Ctx::Scenes, Cmd::MoveUp, &["K", "shift-up"]),
    (Ctx::Scenes, Cmd::MoveDown, &["J", "shift-down"]),
    (Ctx::Scenes, Cmd::AddScene, &["o"]),
    (Ctx::Scenes, Cmd::RemoveScene, &["x", "delete"]),
    (Ctx::Scenes, Cmd::RegenerateScene, &["r"]),
    (Ctx::Scenes, Cmd::RetryClip, &["R"]),
    (Ctx::Scenes, Cmd::Approve, &["A"]),
    (Ctx::Scenes, Cmd::Preview, &["p"]),
    (Ctx::Scenes, Cmd::Search, &["/"]),
    (Ctx::Scenes, Cmd::SearchNext, &["n"]),
    (Ctx::Scenes, Cmd::SearchPrev, &["N"]),
    (Ctx::Scenes, Cmd::Board, &["b"]),
    (Ctx::Scenes, Cmd::FullDescription, &["i"]),
    (Ctx::Scenes, Cmd::Animatic, &["P"]),
    (Ctx::Progress, Cmd::Up, &["k", "up"]),
    (Ctx::Progress, Cmd::Down, &["j", "down"]),
    (Ctx::Progress, Cmd::RetryClip, &["R"]),
    (Ctx::Progress, Cmd::Preview, &["p"]),
    (Ctx::Progress, Cmd::Animatic, &["P"]),
    (Ctx::Quality, Cmd::Up, &["k", "up"]),
    (Ctx::Quality, Cmd::Down, &["j", "down"]),
    (Ctx::Input, Cmd::Send, &["enter"]),
    (Ctx::Input, Cmd::Newline, &["alt-enter", "shift-enter"]),
    (Ctx::Input, Cmd::HistoryPrev, &["up"]),
    (Ctx::Input, Cmd::HistoryNext, &["down"]),
];

#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: DEFAULTS
                .iter()
                .map(|(ctx, cmd, keys)| Binding { ctx: *ctx, cmd: *cmd, keys: keys.iter().filter_map(|k| KeySpec::parse(k).ok()).collect() })
                .collect(),
        }
    }
}

impl Keymap {
    /// Defaults, with the commands named in `config_dir/keymap.toml` rebound:
    /// `[scenes]\nedit_text = ["i", "e"]`.
    pub fn load(config_dir: &Path) -> Result<Keymap, String> {
        let mut km = Keymap::default();
        let path = config_dir.join("keymap.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(km),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Err(format!("{}: not UTF-8 text", path.display())),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let user: BTreeMap<Ctx, BTreeMap<Cmd, Vec<String>>> = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for (ctx, cmds) in user {
            for (cmd, keys) in cmds {
                let keys = keys.iter().map(|k| KeySpec::parse(k)).collect::<Result<Vec<_>, _>>().map_err(|e| format!("{}: {e}", path.display()))?;
                match km.bindings.iter_mut().find(|b| b.ctx == ctx && b.cmd == cmd) {
                    Some(b) => b.keys = keys,
                    None => km.bindings.push(Binding { ctx, cmd, keys }),
                }
            }
        }
        Ok(km)
    }

    /// The command for a key in a panel; panel bindings win over global ones. In the
    /// prompt input, plain characters always type.
    pub fn lookup(&self, ctx: Ctx, ev: &KeyEvent) -> Option<Cmd> {
        let find = |c: Ctx| self.bindings.iter().find(|b| b.ctx == c && b.keys.iter().any(|k| k.matches(ev))).map(|b| b.cmd);
        if let Some(cmd) = find(ctx) {
            return Some(cmd);
        }
        let typing = matches!(ev.code, KeyCode::Char(_)) && !ev.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if ctx == Ctx::Input && typing {
            return None;
        }
        find(Ctx::Global)
    }

    pub fn keys_for(&self, ctx: Ctx, cmd: Cmd) -> String {
        self.bindings
            .iter()
            .find(|b| b.ctx == ctx && b.cmd == cmd)
            .map(|b| b.keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }

    /// (keys, description) for the hint bar: the panel's own commands, then essentials.
    /// The hint bar's keys for a panel, most important first: the panel's own, then
    /// Tab; `q quit` and `? help` (always last) are the essential ones (`true`), shown
    /// whatever the width.
    pub fn hints(&self, ctx: Ctx) -> Vec<(String, &'static str, bool)> {
        let mut out: Vec<(String, &'static str, bool)> = self
            .bindings
            .iter()
            .filter(|b| b.ctx == ctx && !matches!(b.cmd, Cmd::Up | Cmd::Down))
            .map(|b| (b.keys.first().map(|k| k.to_string()).unwrap_or_default(), b.cmd.describe(), false))
            .collect();
        for cmd in [Cmd::FocusNext, Cmd::Quit, Cmd::Help] {
            // In the prompt, plain characters type: show a key that works there.
            let key = self
                .bindings
                .iter()
                .find(|b| b.ctx == Ctx::Global && b.cmd == cmd)
                .and_then(|b| b.keys.iter().find(|k| ctx != Ctx::Input || !matches!(k.code, KeyCode::Char(_)) || k.mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)))
                .map(|k| k.to_string());
            if let Some(k) = key {
                out.push((k, cmd.describe(), cmd != Cmd::FocusNext));
            }
        }
        out
    }

    /// Every binding grouped by panel, for the help overlay.
    pub fn help(&self) -> Vec<(Ctx, Vec<(String, &'static str)>)> {
        let mut groups: BTreeMap<Ctx, Vec<(String, &'static str)>> = BTreeMap::new();
        for b in &self.bindings {
            groups
                .entry(b.ctx)
                .or_default()
                .push((b.keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(" "), b.cmd.describe()));
        }
        groups.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }
    #[test]
    fn lookups_respect_panels_and_typing() {
        let km = Keymap::default();
        assert_eq!(km.lookup(Ctx::Scenes, &key(KeyCode::Char('e'), KeyModifiers::NONE)), Some(Cmd::EditText));
        assert_eq!(km.lookup(Ctx::Scenes, &key(KeyCode::Char('K'), KeyModifiers::SHIFT)), Some(Cmd::MoveUp));
        assert_eq!(km.lookup(Ctx::Scenes, &key(KeyCode::Char('q'), KeyModifiers::NONE)), Some(Cmd::Quit));
        // In the prompt, 'q' types and Ctrl-C still quits.
        assert_eq!(km.lookup(Ctx::Input, &key(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(km.lookup(Ctx::Input, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Cmd::Quit));
        assert_eq!(km.lookup(Ctx::Input, &key(KeyCode::Enter, KeyModifiers::ALT)), Some(Cmd::Newline));
        assert_eq!(km.lookup(Ctx::Input, &key(KeyCode::BackTab, KeyModifiers::SHIFT)), Some(Cmd::FocusPrev));
    }
    #[test]
    fn user_keymap_rebinds_and_help_follows() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keymap.toml"), "[scenes]\nedit_text = [\"i\"]\n").unwrap();
        let km = Keymap::load(dir.path()).unwrap();
        assert_eq!(km.lookup(Ctx::Scenes, &key(KeyCode::Char('i'), KeyModifiers::NONE)), Some(Cmd::EditText));
        assert_eq!(km.lookup(Ctx::Scenes, &key(KeyCode::Char('e'), KeyModifiers::NONE)), None);
        assert!(km.hints(Ctx::Scenes).iter().any(|(k, d, _)| k == "i" && *d == "edit on-screen text"));
        std::fs::write(dir.path().join("keymap.toml"), "[scenes]\nedit_text = [\"ctrl-nope\"]\n").unwrap();
        assert!(Keymap::load(dir.path()).is_err());
        std::fs::write(dir.path().join("keymap.toml"), b"[scenes]\nedit_text = [\"\xff\"]\n").unwrap();
        let err = Keymap::load(dir.path()).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }
}
