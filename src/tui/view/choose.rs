//! The popups for choosing before paying: the mood board (candidates side by side) and
//! the animatic player (a frame, a time bar of the scenes, the file to open).

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, clear};
use crate::domain::{candidate_letter, Approver, Slot};
use crate::tui::app::{animatic_timeline, board_grid, segment_name, App, Hit};
use crate::tui::halfblock;

/// Half-blocks are colour or nothing.
fn pictures_shown(app: &App) -> Option<&'static str> {
    if !app.images {
        Some("pictures are off (--no-images)")
    } else if app.theme.no_color {
        Some("pictures need colour: NO_COLOR is set")
    } else {
        None
    }
}

/// A picture fitted and centred in `r`, or what stands in for it.
fn picture(app: &App, f: &mut Frame, r: Rect, img: Option<&image::RgbImage>, missing: &str) {
    match (img, pictures_shown(app)) {
        (Some(img), None) => {
            let lines = halfblock::fit(img, r.width, r.height);
            let (w, h) = (lines.first().map_or(0, |l| l.spans.len()) as u16, lines.len() as u16);
            let at = Rect { x: r.x + r.width.saturating_sub(w) / 2, y: r.y + r.height.saturating_sub(h) / 2, width: w.min(r.width), height: h.min(r.height) };
            f.render_widget(Paragraph::new(lines), at);
        }
        (_, Some(why)) => f.render_widget(Paragraph::new(Span::styled(why, app.theme.muted)).wrap(Wrap { trim: true }), r),
        (None, None) => f.render_widget(Paragraph::new(Span::styled(missing, app.theme.muted)), r),
    }
}

pub fn board(app: &App, f: &mut Frame, area: Rect, slot: Slot, sel: usize) {
    let t = &app.theme;
    let Some(v) = &app.session else { return };
    let Some((_, images)) = v.state.candidates.get(&slot) else { return };
    let (popup, cells) = board_grid(area, images.len(), app.picture_aspect());
    clear(app, f, popup);
    let what = match slot {
        Slot::Keyframe(id) => {
            let n = v.state.scene_number(id).unwrap_or(0);
            let text = v.state.scene(id).map(|s| s.on_screen_text.clone()).filter(|s| !s.is_empty()).map(|s| format!(" \"{}\"", crate::text::clip_for_terminal(&s, 30))).unwrap_or_default();
            format!("scene {n} keyframe{text}")
        }
        Slot::Reference(k) => format!("{} reference", k.id()),
    };
    let title = format!("Mood board — {what}");
    let b = block(app, &title, true);
    f.render_widget(b, popup);
    let pick = v.state.picks.get(&slot).copied();
    let mut hits = app.hits.borrow_mut();
    for (i, (cell, asset)) in cells.iter().zip(images).enumerate() {
        let mark = match pick {
            Some((p, Approver::User)) if p == i => " ✓ your pick",
            Some((p, _)) if p == i => " ✓ in use (auto: best palette)",
            _ => "",
        };
        let chosen = i == sel;
        let label = format!("{}{mark}", candidate_letter(i));
        let cb = ratatui::widgets::Block::default()
            .borders(ratatui::widgets::Borders::ALL)
            .border_style(if chosen { t.border_focused.add_modifier(Modifier::BOLD) } else { t.border })
            .title(Span::styled(format!(" {label} "), if chosen { t.accent.add_modifier(Modifier::BOLD) } else { t.muted }));
        let inner = cb.inner(*cell);
        f.render_widget(cb, *cell);
        picture(app, f, inner, app.small_images.get(asset).map(|a| a.as_ref()), "loading…");
        hits.push((*cell, Hit::Candidate(i)));
    }
    let keys = "←/→ a–h choose · Enter or a click uses it · u undoes · Esc closes";
    let r = Rect { x: popup.x + 1, y: popup.y + popup.height.saturating_sub(2), width: popup.width.saturating_sub(2), height: 1 };
    f.render_widget(Paragraph::new(Span::styled(crate::text::clip_for_terminal(keys, r.width as usize), t.accent)), r);
}

fn clock(s: f64) -> String {
    let tenths = (s.max(0.0) * 10.0).round() as u64;
    format!("{}:{:02}.{}", tenths / 600, tenths / 10 % 60, tenths % 10)
}

pub fn player(app: &App, f: &mut Frame, area: Rect, at_s: f64, playing: bool) {
    let t = &app.theme;
    let Some(v) = &app.session else { return };
    let Some(made) = &v.state.animatic else { return };
    let w = area.width.saturating_sub(4).min(160);
    let h = area.height.saturating_sub(2).min(60);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    clear(app, f, popup);
    let approved = v.state.animatic_approved.is_some();
    let title = format!("Animatic {}×{} — {}", made.width, made.height, if approved { "approved" } else { "not approved yet: A approves, then the clips render" });
    let b = block(app, &title, true);
    let inner = b.inner(popup);
    f.render_widget(b, popup);
    // Picture, then the time bar, its cursor, where we are, the file and the keys.
    let pic = Rect { height: inner.height.saturating_sub(5), ..inner };
    let loaded = app.animatic.as_ref().filter(|a| a.asset == made.video);
    picture(app, f, pic, loaded.and_then(|a| a.at(at_s)), "loading the frames…");
    let row = |k: u16| Rect { x: inner.x, y: inner.y + inner.height.saturating_sub(5 - k), width: inner.width, height: 1 };
    let width = inner.width as usize;
    let timeline = animatic_timeline(&v.state, &app.rules.finish);
    let total = made.duration_s.max(0.01);
    let col = |s: f64| ((s / total) * width as f64).floor().clamp(0.0, width.saturating_sub(1) as f64) as usize;
    let mut current = None;
    if let Some(tl) = &timeline {
        // One run of cells per segment, alternating shades, its number at its start.
        let mut spans = Vec::new();
        for (i, seg) in tl.segments.iter().enumerate() {
            let (a, b) = (col(seg.slot_start_s), if i + 1 == tl.segments.len() { width } else { col(seg.slot_start_s + seg.slot_s) });
            let name = match seg.kind {
                crate::media::SegmentKind::Clip(k) => (k + 1).to_string(),
                crate::media::SegmentKind::Intro => "i".into(),
                crate::media::SegmentKind::Outro => "e".into(),
            };
            let fill: String = format!("{name}{}", " ".repeat(b.saturating_sub(a).saturating_sub(name.chars().count()))).chars().take(b.saturating_sub(a)).collect();
            let style = if i % 2 == 0 { t.selected } else { t.gauge };
            spans.push(Span::styled(fill, style));
            if at_s >= seg.slot_start_s - 1e-6 && at_s < seg.slot_start_s + seg.slot_s {
                current = Some(seg.clone());
            }
        }
        f.render_widget(Paragraph::new(Line::from(spans)), row(0));
    }
    let cursor = format!("{}▲", " ".repeat(col(at_s)));
    f.render_widget(Paragraph::new(Span::styled(cursor, t.accent)), row(1));
    let current = current.or_else(|| timeline.as_ref().and_then(|tl| tl.segments.last().cloned()));
    let here = current.map(|seg| {
        let mut s = format!("{} ({:.1} s", segment_name(seg.kind), seg.slot_s);
        if let crate::media::SegmentKind::Clip(k) = seg.kind {
            if let Some(sc) = v.state.scenes.get(k) {
                s.push_str(&format!(", {}", sc.camera));
                if !sc.on_screen_text.is_empty() {
                    s.push_str(&format!(") \"{}\"", sc.on_screen_text));
                    return s;
                }
            }
        }
        s.push(')');
        s
    });
    let state = if playing { "▶ playing" } else { "❚❚" };
    let line = format!("{state} {} / {} · {}", clock(at_s), clock(made.duration_s), here.unwrap_or_default());
    f.render_widget(Paragraph::new(Span::styled(crate::text::clip_for_terminal(&line, width), t.base)), row(2));
    // Paths are never cut inside: the middle goes, y copies the whole.
    let file = loaded.map(|a| a.path.display().to_string()).unwrap_or_default();
    let file = format!("with sound: mpv {}", crate::text::ellipsize_middle(&crate::text::shell_quote(&file), width.saturating_sub(18)));
    f.render_widget(Paragraph::new(Span::styled(file, t.muted)), row(3));
    let keys = "Space play · ←/→ ½ s (Shift 2 s) · [ ] scene · y copy path · A approve · Esc close";
    f.render_widget(Paragraph::new(Span::styled(crate::text::clip_for_terminal(keys, width), t.accent)), row(4));
}
