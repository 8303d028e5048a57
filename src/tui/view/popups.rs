//! Popups drawn over the screen: help, confirmations, the command line, the scene editor.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::block;
use crate::tui::app::{verb_summary, App, EditField, Popup};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

pub fn popup(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(p) = &app.popup else { return };
    match p {
        Popup::Help => {
            let mut lines = Vec::new();
            let help = app.keymap.help();
            let kw = help.iter().flat_map(|(_, b)| b.iter().map(|(k, _)| k.chars().count())).max().unwrap_or(10) + 2;
            for (ctx, binds) in help {
                lines.push(Line::from(Span::styled(ctx.title(), t.accent)));
                for (keys, desc) in binds {
                    lines.push(Line::from(vec![Span::styled(format!("  {keys:<kw$}"), t.base), Span::styled(desc, t.muted)]));
                }
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(format!("Command line (:) — {}", verb_summary(" · ")), t.muted)));
            lines.push(Line::from(Span::styled("Prompt answers — approve · regenerate · make scene 2 more dramatic · edit scene 3: … · edit scene 3 text: … · retry clip 2", t.muted)));
            let r = centered(area, area.width.saturating_sub(8).min(100), area.height.saturating_sub(2));
            f.render_widget(Clear, r);
            // Two columns when the list is taller than the box.
            let inner_h = r.height.saturating_sub(2) as usize;
            let b = block(app, "Help — any key closes", true);
            let inner = b.inner(r);
            f.render_widget(b, r);
            if lines.len() > inner_h && inner.width > 60 {
                let half = Rect { width: inner.width / 2, ..inner };
                let right = Rect { x: inner.x + inner.width / 2, width: inner.width - inner.width / 2, ..inner };
                let split = lines.len().div_ceil(2);
                let rest = lines.split_off(split);
                f.render_widget(Paragraph::new(lines), half);
                f.render_widget(Paragraph::new(rest), right);
            } else {
                f.render_widget(Paragraph::new(lines), inner);
            }
        }
        Popup::ConfirmQuit => {
            let r = centered(area, 56, 6);
            f.render_widget(Clear, r);
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
            let r = centered(area, 56, 5);
            f.render_widget(Clear, r);
            let p = Paragraph::new(vec![Line::from(format!("Delete session {id}?")), Line::from(Span::styled("y: delete · any other key: keep", t.accent))])
                .block(block(app, "Delete?", true));
            f.render_widget(p, r);
        }
        Popup::CommandLine(editor) => {
            let r = Rect { x: area.x, y: area.y + area.height.saturating_sub(3), width: area.width, height: 3 };
            f.render_widget(Clear, r);
            let mut e = editor.clone();
            e.set_placeholder_style(t.muted);
            e.set_block(block(app, ":command (Enter runs, Esc cancels)", true));
            f.render_widget(&e, r);
        }
        Popup::EditScene { scene_id, field, editor } => {
            let r = centered(area, area.width.saturating_sub(10).min(90), 5);
            f.render_widget(Clear, r);
            let n = app.session.as_ref().and_then(|v| v.state.scene_number(*scene_id)).unwrap_or(0);
            let what = match field {
                EditField::Text => "on-screen text",
                EditField::Description => "description",
                EditField::Voiceover => "voiceover",
            };
            let title = format!("Scene {n} {what} — Enter saves, Esc cancels");
            let mut e = editor.clone();
            e.set_block(block(app, &title, true));
            f.render_widget(&e, r);
        }
    }
}
