//! The `:` command line: its verbs in one table, which the placeholder, the help overlay
//! and the "unknown command" message are all made from.

use super::{App, Popup, Screen};
use crate::domain::Command;
use crate::tui::action::Effect;
use crate::tui::keymap::Cmd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Resume,
    Export,
    Theme,
    Images,
    Look,
    Budget,
    Variants,
    Board,
    Animatic,
    Sessions,
    Help,
    Quit,
}

/// What a verb takes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    /// Needed: without it the line is not understood.
    Required(&'static str),
    /// May be left out (`:budget` clears the budget).
    Optional(&'static str),
}

pub struct VerbSpec {
    pub verb: Verb,
    /// The first name is the one shown; the rest are aliases.
    pub names: &'static [&'static str],
    pub arg: Arg,
    /// Shown in the summary (help is reached with `?` anyway).
    pub listed: bool,
}

pub const VERBS: &[VerbSpec] = &[
    VerbSpec { verb: Verb::Resume, names: &["resume", "open"], arg: Arg::Optional("ID"), listed: true },
    VerbSpec { verb: Verb::Export, names: &["export"], arg: Arg::Required("DIR"), listed: true },
    VerbSpec { verb: Verb::Theme, names: &["theme"], arg: Arg::Required("NAME"), listed: true },
    VerbSpec { verb: Verb::Images, names: &["images"], arg: Arg::Required("HOW"), listed: true },
    VerbSpec { verb: Verb::Look, names: &["look"], arg: Arg::Required("NAME"), listed: true },
    VerbSpec { verb: Verb::Budget, names: &["budget"], arg: Arg::Optional("USD"), listed: true },
    VerbSpec { verb: Verb::Board, names: &["board"], arg: Arg::Optional("SCENE|product"), listed: true },
    VerbSpec { verb: Verb::Animatic, names: &["animatic"], arg: Arg::None, listed: true },
    VerbSpec { verb: Verb::Variants, names: &["variants"], arg: Arg::None, listed: true },
    VerbSpec { verb: Verb::Sessions, names: &["sessions", "ls"], arg: Arg::None, listed: true },
    VerbSpec { verb: Verb::Help, names: &["help"], arg: Arg::None, listed: false },
    VerbSpec { verb: Verb::Quit, names: &["quit", "q"], arg: Arg::None, listed: true },
];

/// The listed verbs with their arguments (`resume ID · export DIR · …`), joined by `sep`.
pub fn verb_summary(sep: &str) -> String {
    VERBS
        .iter()
        .filter(|v| v.listed)
        .map(|v| match v.arg {
            Arg::Required(a) | Arg::Optional(a) => format!("{} {a}", v.names[0]),
            Arg::None => v.names[0].to_string(),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// The verb a line names, when it has what the verb needs; else what is wrong.
fn parse(line: &str) -> Result<(Verb, &str), String> {
    let (name, arg) = line.split_once(' ').map(|(a, b)| (a, b.trim())).unwrap_or((line, ""));
    let Some(spec) = VERBS.iter().find(|v| v.names.contains(&name)) else {
        return Err(format!("unknown command ':{line}': try {}", verb_summary(", ")));
    };
    match spec.arg {
        Arg::Required(what) if arg.is_empty() => Err(match spec.verb {
            Verb::Theme => format!(":theme needs a {what}: {}", crate::tui::theme::Theme::names().join(", ")),
            Verb::Images => format!(":images needs a way to draw pictures: {}", crate::config::IMAGE_PROTOCOLS.join(", ")),
            Verb::Look => format!(":look needs a {what}: natural, warm, cool, teal-orange, punchy, soft, mono, vintage, or a .cube file"),
            Verb::Export => format!(":export needs a {what}, e.g. :export ~/Desktop/advert"),
            _ => format!(":{name} needs {what}"),
        }),
        _ => Ok((spec.verb, arg)),
    }
}

/// What `line` may go on with: its verb's names, else the verb's argument values
/// (`sessions` are the listed ids, `scenes` the open session's scene count).
pub fn completions(line: &str, sessions: &[String], scenes: usize) -> Vec<String> {
    let line = line.trim_start_matches(':').trim_start();
    let Some((name, arg)) = line.split_once(' ') else {
        let mut names: Vec<String> = VERBS.iter().flat_map(|v| v.names.iter()).filter(|n| n.starts_with(line)).map(|n| n.to_string()).collect();
        names.sort();
        names.dedup();
        return names;
    };
    let Some(spec) = VERBS.iter().find(|v| v.names.contains(&name)) else { return vec![] };
    let values: Vec<String> = match spec.verb {
        Verb::Theme => crate::tui::theme::Theme::names().into_iter().map(str::to_string).collect(),
        Verb::Images => crate::config::IMAGE_PROTOCOLS.iter().map(|s| s.to_string()).collect(),
        Verb::Look => crate::media::SHIPPED_LOOKS.iter().map(|s| s.to_string()).collect(),
        Verb::Resume => sessions.to_vec(),
        Verb::Board => (1..=scenes).map(|n| n.to_string()).chain(crate::domain::ReferenceKind::ALL.iter().map(|k| k.id().to_string())).collect(),
        _ => vec![],
    };
    let arg = arg.trim_start();
    values.into_iter().filter(|v| v.starts_with(arg)).map(|v| format!("{name} {v}")).collect()
}

/// The longest start the `options` share.
fn common_prefix(options: &[String]) -> String {
    let Some(first) = options.first() else { return String::new() };
    let mut end = first.len();
    for o in &options[1..] {
        end = end.min(first.char_indices().zip(o.chars()).take_while(|((_, a), b)| a == b).last().map_or(0, |((i, a), _)| i + a.len_utf8()));
    }
    first[..end].to_string()
}

impl App {
    /// Tab in the command line: complete what is typed as far as it is certain; when more
    /// than one thing fits, say which.
    pub(super) fn complete_command_line(&mut self, typed: &str) -> Option<String> {
        let sessions: Vec<String> = self.sessions.iter().map(|s| s.id.clone()).collect();
        let scenes = self.session.as_ref().map_or(0, |v| v.state.scenes.len());
        let options = completions(typed, &sessions, scenes);
        match options.as_slice() {
            [] => {
                self.status = format!("nothing completes ':{typed}'");
                None
            }
            // A whole verb gets its space, ready for its argument.
            [one] => Some(if one.contains(' ') || VERBS.iter().any(|v| v.names.contains(&one.as_str()) && v.arg == Arg::None) { one.clone() } else { format!("{one} ") }),
            many => {
                let shown: Vec<&str> = many.iter().map(|o| o.rsplit(' ').next().unwrap_or(o)).collect();
                self.status = format!("{} fit: {}", many.len(), shown.join(" "));
                self.status_is_error = false;
                let prefix = common_prefix(many);
                (prefix.len() > typed.trim_start_matches(':').len()).then_some(prefix)
            }
        }
    }

    /// ↑ / ↓ in the command line: the lines run before, newest first.
    pub(super) fn command_history(&mut self, up: bool) -> Option<String> {
        let n = self.command_lines.len();
        if n == 0 {
            return None;
        }
        let pos = match (self.command_pos, up) {
            (None, true) => Some(n - 1),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < n => Some(i + 1),
            (Some(_), false) => None,
        };
        self.command_pos = pos;
        Some(pos.map(|i| self.command_lines[i].clone()).unwrap_or_default())
    }

    pub(super) fn run_command_line(&mut self, line: &str) -> Vec<Effect> {
        if !line.is_empty() && self.command_lines.last().map(String::as_str) != Some(line) {
            self.command_lines.push(line.to_string());
        }
        self.command_pos = None;
        let (verb, arg) = match parse(line) {
            Ok(v) => v,
            Err(e) => {
                self.status = e;
                return vec![];
            }
        };
        match verb {
            Verb::Quit => self.command(Cmd::Quit),
            // Without an id: the open session goes on.
            Verb::Resume if arg.is_empty() => match self.session.as_ref() {
                Some(v) if v.run == super::RunState::Idle => {
                    let id = v.id.clone();
                    self.start_run(id)
                }
                Some(_) => {
                    self.status = "it is already running".into();
                    vec![]
                }
                None => {
                    self.status = ":resume needs a session's id (the sessions list shows them: :sessions)".into();
                    vec![]
                }
            },
            Verb::Resume => vec![Effect::OpenSession(arg.to_string())],
            Verb::Sessions => {
                if self.is_running() {
                    self.screen = Screen::Sessions;
                } else {
                    self.leave_session();
                }
                vec![Effect::LoadSessions]
            }
            Verb::Export => match (&self.session, crate::config::expand_user(arg)) {
                (Some(v), Ok(dir)) => vec![Effect::Export { session: v.id.clone(), dir: dir.display().to_string() }],
                (Some(_), Err(e)) => {
                    self.status = e;
                    vec![]
                }
                (None, _) => {
                    self.status = "open a session first".into();
                    vec![]
                }
            },
            Verb::Theme => vec![Effect::SetTheme(arg.to_string())],
            Verb::Images if crate::config::IMAGE_PROTOCOLS.contains(&arg) => vec![Effect::SetImages(arg.to_string())],
            Verb::Images => {
                self.status = format!("unknown way to draw pictures '{arg}': {}", crate::config::IMAGE_PROTOCOLS.join(", "));
                self.status_is_error = true;
                vec![]
            }
            Verb::Look => match &self.session {
                Some(v) => vec![Effect::ResolveLook { session: v.id.clone(), name: arg.to_string() }],
                None => {
                    self.status = "open a session first".into();
                    vec![]
                }
            },
            Verb::Budget => {
                let usd = if arg.is_empty() || arg == "none" { Ok(None) } else { arg.trim_start_matches('$').parse::<f64>().map(Some) };
                match (usd, &self.session) {
                    // A run the budget paused goes on once it is raised.
                    (Ok(usd), Some(v)) => {
                        let paused = matches!(v.run, super::RunState::AtGate(crate::pipeline::Gate::Budget(_)));
                        self.session_change(Command::SetBudget { usd }, paused)
                    }
                    (Err(_), _) => {
                        self.status = format!("'{arg}' is not an amount: :budget 5");
                        vec![]
                    }
                    (_, None) => {
                        self.status = "open a session first".into();
                        vec![]
                    }
                }
            }
            Verb::Variants => self.make_variants(),
            Verb::Board => self.board_command(arg),
            Verb::Animatic => match self.session {
                Some(_) => self.open_animatic(),
                None => {
                    self.status = "open a session first".into();
                    vec![]
                }
            },
            Verb::Help => {
                self.popup = Some(Popup::Help { scroll: 0 });
                vec![]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_and_the_parser_come_from_one_table() {
        assert_eq!(verb_summary(" · "), "resume ID · export DIR · theme NAME · images HOW · look NAME · budget USD · board SCENE|product · animatic · variants · sessions · quit");
        assert_eq!(parse("open 2026-x"), Ok((Verb::Resume, "2026-x")));
        assert_eq!(parse("resume"), Ok((Verb::Resume, "")), "the open session");
        assert_eq!(parse("budget"), Ok((Verb::Budget, "")));
        assert_eq!(parse("ls"), Ok((Verb::Sessions, "")));
        assert!(parse("foo").unwrap_err().starts_with("unknown command ':foo'"));
        assert_eq!(parse("theme"), Err(":theme needs a NAME: dark, light, high-contrast".into()));
    }

    #[test]
    fn completion_knows_verbs_and_their_values() {
        assert_eq!(completions("th", &[], 0), ["theme"]);
        assert_eq!(completions("b", &[], 0), ["board", "budget"]);
        assert_eq!(common_prefix(&completions("b", &[], 0)), "b");
        assert_eq!(completions("theme l", &[], 0), ["theme light"]);
        assert_eq!(completions("look t", &[], 0), ["look teal-orange"]);
        assert_eq!(completions("images s", &[], 0), ["images sixel"]);
        assert_eq!(parse("images"), Err(":images needs a way to draw pictures: auto, kitty, sixel, iterm2, halfblocks, off".into()));
        assert_eq!(completions("resume 2026", &["20261201-a".into(), "20251201-b".into()], 0), ["resume 20261201-a"]);
        assert_eq!(completions("board ", &[], 2), ["board 1", "board 2", "board product", "board character", "board environment"]);
        assert_eq!(common_prefix(&["look warm".into(), "look wild".into()]), "look w");
        assert!(completions("nope x", &[], 0).is_empty());
    }
}
