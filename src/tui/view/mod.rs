//! `view(&App, &Images, &mut Frame)`: pure drawing. No store access, no mutation.

mod choose;
mod panels;
mod popups;

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use std::collections::HashMap;

use super::app::{App, Focus, Screen};
use crate::domain::Stage;

pub use panels::{chat_lines, chat_pictures, clip_status, graphical, picture_key};

/// Smallest terminal the layout works in.
pub const MIN_SIZE: (u16, u16) = (60, 18);

/// Decoded, fitted preview images, keyed by `asset:WxH` (made off the UI thread).
#[derive(Default)]
pub struct Images {
    pub picker: Option<ratatui_image::picker::Picker>,
    pub ready: HashMap<String, ratatui_image::protocol::Protocol>,
    /// What the terminal said it draws (for `:images auto`).
    pub detected: crate::tui::graphics::Detected,
}

/// The rectangles of the session screen, shared by `view` and the runtime (which needs
/// the preview size to prepare images before they are drawn).
pub struct SessionLayout {
    pub header: Rect,
    pub chat: Rect,
    pub scenes: Rect,
    pub progress: Rect,
    pub quality: Rect,
    pub input: Rect,
    pub hints: Rect,
}

/// The chat's share of the width: the user's (`<` / `>`), else by the terminal's width.
pub fn session_layout(area: Rect, input_lines: u16, chat_pct: Option<u16>) -> SessionLayout {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(1), Constraint::Min(6), Constraint::Length(input_lines.clamp(1, 6) + 2), Constraint::Length(1)])
        .split(area);
    let chat_pct = chat_pct.unwrap_or(if area.width >= 120 { 58 } else { 52 });
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(chat_pct), Constraint::Percentage(100 - chat_pct)])
        .split(rows[1]);
    let right = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Percentage(40), Constraint::Percentage(35), Constraint::Percentage(25)])
        .split(cols[1]);
    SessionLayout { header: rows[0], chat: cols[0], scenes: right[0], progress: right[1], quality: right[2], input: rows[2], hints: rows[3] }
}

/// Inner size of the preview (the chat panel without its border).
pub fn preview_size(app: &App) -> (u16, u16) {
    let l = session_layout(Rect::new(0, 0, app.size.0, app.size.1), app.input.lines().len() as u16, app.chat_pct);
    (l.chat.width.saturating_sub(2), l.chat.height.saturating_sub(2))
}

pub fn block<'a>(app: &App, title: &'a str, focused: bool) -> Block<'a> {
    let t = &app.theme;
    let title = if focused { format!(" ▸ {title} ") } else { format!(" {title} ") };
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focused } else { t.border })
        .title(Span::styled(title, if focused { t.accent } else { t.muted }))
}

/// Empty `r` for a popup, in the theme's own background (not the terminal's default,
/// which may be black under a light theme).
pub fn clear(app: &App, f: &mut Frame, r: Rect) {
    f.render_widget(ratatui::widgets::Clear, r);
    f.render_widget(Block::default().style(app.theme.base), r);
}

pub fn view(app: &App, images: &Images, f: &mut Frame) {
    let area = f.area();
    app.hits.borrow_mut().clear();
    f.render_widget(Block::default().style(app.theme.base), area);
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let msg = format!("terminal too small: {}x{} (admint needs at least {}x{})", area.width, area.height, MIN_SIZE.0, MIN_SIZE.1);
        f.render_widget(Paragraph::new(msg).style(app.theme.error).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    }
    match app.screen {
        Screen::Sessions => panels::sessions(app, f, area),
        Screen::Session => session_screen(app, images, f, area),
    }
    popups::popup(app, f, area);
}

fn session_screen(app: &App, images: &Images, f: &mut Frame, area: Rect) {
    let l = session_layout(area, app.input.lines().len() as u16, app.chat_pct);
    {
        use crate::tui::app::Hit;
        let mut hits = app.hits.borrow_mut();
        for (r, focus) in [(l.chat, Focus::Chat), (l.scenes, Focus::Scenes), (l.progress, Focus::Progress), (l.quality, Focus::Quality), (l.input, Focus::Input)] {
            hits.push((r, Hit::Panel(focus)));
        }
    }
    header(app, f, l.header);
    // A popup hides graphics: terminal images would otherwise survive under it.
    match (&app.preview, app.popup.is_none()) {
        (Some(asset), true) => panels::preview(app, images, asset, f, l.chat),
        (_, no_popup) => panels::chat(app, images, no_popup, f, l.chat),
    }
    panels::scenes(app, f, l.scenes);
    panels::progress(app, f, l.progress);
    panels::quality(app, f, l.quality);
    let mut input = app.input.clone();
    let title = match app.session.as_ref().map(|s| &s.run) {
        None => "New advert: describe it (Enter sends, Alt-Enter new line)",
        Some(super::app::RunState::AtGate(_)) => "Your answer",
        Some(super::app::RunState::Running) => "Prompt (rendering…)",
        _ => "Prompt",
    };
    input.set_block(block(app, title, app.focus == Focus::Input));
    input.set_style(app.theme.base);
    input.set_placeholder_style(app.theme.muted);
    if app.focus != Focus::Input {
        input.set_cursor_style(Style::default());
    }
    f.render_widget(&input, l.input);
    hints(app, f, l.hints);
}

fn header(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut spans = vec![Span::styled(" admint ", t.accent)];
    match &app.session {
        None => spans.push(Span::styled("· new advert", t.muted)),
        Some(v) => {
            // The stages always fit: full names, else their first four letters; the
            // title takes what is left.
            let stages: Vec<(String, &str, Style)> = Stage::ALL
                .iter()
                .map(|s| {
                    let (mark, style) = if v.state.stages_completed.contains(s) {
                        ("✓", t.good)
                    } else if v.state.stages_started.contains(s) {
                        ("●", t.accent)
                    } else {
                        ("", t.muted)
                    };
                    (s.id().to_string(), mark, style)
                })
                .collect();
            let width = |short: bool| stages.iter().map(|(n, m, _)| if short { n.chars().take(4).count() } else { n.chars().count() } + m.chars().count() + 3).sum::<usize>();
            let room = (area.width as usize).saturating_sub(8);
            let short = width(false) + 12 > room;
            // Narrower still: no spaces around the separators.
            let tight = short && width(true) + 8 > room;
            let sep = if tight { "›" } else { " › " };
            let width = |short: bool| width(short) - if tight { 2 * stages.len() } else { 0 };
            let title = v.state.brief.as_ref().map(|b| b.title()).unwrap_or_else(|| v.id.clone());
            let title = crate::text::clip_for_terminal(&title, room.saturating_sub(width(short) + 3).max(4));
            spans.push(Span::styled(format!("· {title} "), t.base));
            for (i, (name, mark, style)) in stages.into_iter().enumerate() {
                if i > 0 {
                    spans.push(Span::styled(sep, t.muted));
                }
                let name: String = if short { name.chars().take(4).collect() } else { name };
                spans.push(Span::styled(format!("{name}{mark}"), style));
            }
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The status message and the focused panel's keys, fitted to the width: the status
/// takes at most half of it, the essential keys (`q quit`, `? help`, last) are always
/// shown, and the panel's keys fill what is left in order of importance.
pub(super) fn hints(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let width = area.width as usize;
    let mut spans = Vec::new();
    let mut used = 0;
    if !app.status.is_empty() {
        let status = crate::text::clip_for_terminal(&app.status, (width / 2).max(8).saturating_sub(2));
        used += status.chars().count() + 2;
        spans.push(Span::styled(format!(" {status} "), if app.status_is_error { t.error } else { t.good }));
    }
    let all = app.keymap.hints(app.ctx());
    let cost = |k: &str, d: &str| k.chars().count() + d.chars().count() + 3;
    let essential: usize = all.iter().filter(|h| h.2).map(|(k, d, _)| cost(k, d)).sum();
    let mut room = width.saturating_sub(used + essential);
    for (k, d, must) in all {
        if !must {
            if cost(&k, d) > room {
                continue;
            }
            room -= cost(&k, d);
        }
        spans.push(Span::styled(format!(" {k}"), t.accent));
        spans.push(Span::styled(format!(" {d} "), t.muted));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

