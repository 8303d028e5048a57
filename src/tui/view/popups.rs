//! Popups drawn over the screen: help, confirmations, the command line, the scene editor
//! (the mood board and the animatic player are in `choose`).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, clear};
use crate::tui::app::{verb_summary, App, EditField, Popup};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// The help overlay: every binding by panel, then the command line and the prompt's
/// answers. Descriptions wrap under themselves (never cut); sections stay whole, each
/// under its heading, in one column or two; j/k scroll what does not fit.
fn help(app: &App, f: &mut Frame, area: Rect, scroll: usize) {
    let t = &app.theme;
    let r = centered(area, area.width.saturating_sub(4).min(112), area.height.saturating_sub(2));
    clear(app, f, r);
    let b = block(app, "Help — j/k scroll · any other key closes", true);
    let inner = b.inner(r);
    f.render_widget(b, r);
    let cols: usize = if inner.width >= 100 { 2 } else { 1 };
    let col_w = (inner.width as usize).saturating_sub(2 * (cols - 1)) / cols;
    let help = app.keymap.help();
    let kw = help.iter().flat_map(|(_, b)| b.iter().map(|(k, _)| k.chars().count())).max().unwrap_or(10).min(14) + 2;
    let key_style = ratatui::style::Style::default().fg(t.accent.fg.unwrap_or(ratatui::style::Color::Reset));
    let mut sections: Vec<Vec<Line>> = help
        .into_iter()
        .map(|(ctx, binds)| {
            let mut lines = vec![Line::from(Span::styled(ctx.title(), t.accent.add_modifier(ratatui::style::Modifier::BOLD)))];
            for (keys, desc) in binds {
                let wrapped = crate::text::wrap_text(desc, col_w.saturating_sub(kw + 2).max(8), usize::MAX);
                for (i, part) in wrapped.into_iter().enumerate() {
                    // Whole keys only: "Alt-Enter Shift-Enter" shows "Alt-Enter" when narrow.
                    let key = if i == 0 { crate::text::wrap_text(&keys, kw - 1, 1).into_iter().next().unwrap_or_default().trim_end_matches('…').to_string() } else { String::new() };
                    lines.push(Line::from(vec![Span::styled(format!("  {key:<kw$}"), key_style), Span::styled(part, t.muted)]));
                }
            }
            lines
        })
        .collect();
    let more = [("Command line (:)", verb_summary(" · ")), ("Prompt answers", "approve · regenerate · make scene 2 more dramatic · edit scene 3: … · edit scene 3 camera: pan-right · retry clip 2".to_string())];
    for (title, text) in more {
        let mut lines = vec![Line::from(Span::styled(title, t.accent.add_modifier(ratatui::style::Modifier::BOLD)))];
        lines.extend(crate::text::wrap_text(&text, col_w.saturating_sub(2).max(8), usize::MAX).into_iter().map(|l| Line::from(Span::styled(format!("  {l}"), t.muted))));
        sections.push(lines);
    }
    // Whole sections into columns of about equal height.
    let total: usize = sections.iter().map(Vec::len).sum();
    let mut columns: Vec<Vec<Line>> = vec![Vec::new(); cols];
    let mut c = 0;
    for s in sections {
        if c + 1 < cols && !columns[c].is_empty() && columns[c].len() + s.len() > total.div_ceil(cols) {
            c += 1;
        }
        columns[c].extend(s);
    }
    let h = inner.height as usize;
    let longest = columns.iter().map(Vec::len).max().unwrap_or(0);
    let top = scroll.min(longest.saturating_sub(h));
    let below = longest.saturating_sub(top + h);
    for (i, col) in columns.into_iter().enumerate() {
        let x = inner.x + (i * (col_w + 2)) as u16;
        let rect = Rect { x, y: inner.y, width: col_w as u16, height: inner.height };
        let mut shown: Vec<Line> = col.into_iter().skip(top).take(h).collect();
        if below > 0 && i + 1 == cols {
            while shown.len() < h {
                shown.push(Line::from(""));
            }
            if let Some(last) = shown.last_mut() {
                *last = Line::from(Span::styled(format!("↓ {below} more lines: j/k, PgDn"), t.accent));
            }
        }
        f.render_widget(Paragraph::new(shown), rect);
    }
}

/// The camera moves, each with what it does, the scene's own marked.
fn camera(app: &App, f: &mut Frame, area: Rect, scene_id: u32, sel: usize) {
    use crate::domain::CameraMove;
    let t = &app.theme;
    let Some(v) = &app.session else { return };
    let current = v.state.scene(scene_id).map(|s| s.camera);
    let n = v.state.scene_number(scene_id).unwrap_or(0);
    let r = centered(area, 52, CameraMove::ALL.len() as u16 + 3);
    clear(app, f, r);
    let mut lines: Vec<Line> = CameraMove::ALL
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let what = match m {
                CameraMove::Static => "the frame holds still",
                CameraMove::ZoomIn => "pushes in",
                CameraMove::ZoomOut => "pulls back",
                CameraMove::PanLeft => "slides to the left",
                CameraMove::PanRight => "slides to the right",
                CameraMove::Dolly => "moves in, with depth",
            };
            let mark = if Some(*m) == current { "●" } else { " " };
            let style = if i == sel { t.selected } else { t.base };
            Line::from(Span::styled(format!("{mark} {} {:<10} {what}", i + 1, m.id()), style))
        })
        .collect();
    lines.push(Line::from(Span::styled("j/k or 1–6 choose · Enter sets it (u undoes) · Esc", t.accent)));
    let title = format!("Scene {n} camera");
    f.render_widget(Paragraph::new(lines).block(block(app, &title, true)), r);
}

pub fn popup(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(p) = &app.popup else { return };
    match p {
        Popup::Help { scroll } => help(app, f, area, *scroll),
        Popup::Board { slot, sel } => super::choose::board(app, f, area, *slot, *sel),
        Popup::Camera { scene_id, sel } => camera(app, f, area, *scene_id, *sel),
        Popup::Animatic { at_s, playing } => super::choose::player(app, f, area, *at_s, playing.is_some()),
        Popup::ConfirmQuit => {
            let r = centered(area, 56, 6);
            clear(app, f, r);
            let doing = match app.session.as_ref().and_then(|v| v.state.current_stage()) {
                Some(crate::domain::Stage::Clips) => "Clips are rendering",
                Some(crate::domain::Stage::Compose) => "The advert is being composed",
                Some(crate::domain::Stage::Scoring) => "The advert is being scored",
                _ => "The advert is being made",
            };
            let p = Paragraph::new(vec![
                Line::from(format!("{doing}. Quit now?")),
                Line::from(Span::styled("Finished work is kept; reopen the session (or `admint resume`) to go on.", t.muted)),
                Line::from(Span::styled("y / Enter: stop and quit · any other key: stay", t.accent)),
            ])
            .wrap(Wrap { trim: true })
            .block(block(app, "Quit?", true));
            f.render_widget(p, r);
        }
        Popup::ConfirmDelete(id) => {
            let r = centered(area, 64, 6);
            clear(app, f, r);
            let title = app.sessions.iter().find(|s| &s.id == id).map(|s| s.title.clone()).filter(|t| !t.is_empty()).unwrap_or_else(|| "(untitled)".into());
            let p = Paragraph::new(vec![
                Line::from(format!("Delete \"{}\"?", crate::text::clip_for_terminal(&title, 50))),
                Line::from(Span::styled(format!("session {id}: its log is deleted; exported videos and cached results stay"), t.muted)),
                Line::from(Span::styled("y: delete · any other key: keep", t.accent)),
            ])
            .wrap(Wrap { trim: true })
            .block(block(app, "Delete?", true));
            f.render_widget(p, r);
        }
        Popup::Search { within, editor } => {
            let r = Rect { x: area.x, y: area.y + area.height.saturating_sub(3), width: area.width, height: 3 };
            clear(app, f, r);
            let mut e = editor.clone();
            e.set_placeholder_style(t.muted);
            let what = match within {
                crate::tui::app::Within::Chat => "the chat",
                crate::tui::app::Within::Scenes => "the scenes",
                crate::tui::app::Within::Sessions => "the sessions",
            };
            let title = format!("/ search {what} (Enter keeps it for n / N, Esc leaves)");
            e.set_block(block(app, &title, true));
            f.render_widget(&e, r);
        }
        Popup::CommandLine(editor) => {
            let r = Rect { x: area.x, y: area.y + area.height.saturating_sub(3), width: area.width, height: 3 };
            clear(app, f, r);
            let mut e = editor.clone();
            e.set_placeholder_style(t.muted);
            e.set_block(block(app, ":command (Enter runs, Esc cancels)", true));
            f.render_widget(&e, r);
        }
        Popup::EditScene { scene_id, field, editor } => {
            let r = centered(area, area.width.saturating_sub(10).min(90), 5);
            clear(app, f, r);
            let n = app.session.as_ref().and_then(|v| v.state.scene_number(*scene_id)).unwrap_or(0);
            let what = match field {
                EditField::Text => "on-screen text",
                EditField::Description => "description",
                EditField::Voiceover => "voiceover",
                EditField::Duration => "duration in seconds",
            };
            let title = format!("Scene {n} {what} — Enter saves, Esc cancels");
            let mut e = editor.clone();
            e.set_block(block(app, &title, true));
            f.render_widget(&e, r);
        }
    }
}
