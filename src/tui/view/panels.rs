//! The session screen's panels: chat, scenes, progress, quality and the header.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{block, Images};
use crate::domain::{AssetId, Method, Score, ScoreTarget, SessionState, Stage, Verdict};
use crate::text::wrap_text;
use crate::pipeline::narrate::format_time;
use crate::pipeline::Task;
use crate::tui::app::{App, Focus, RunState, SessionView, Who};

fn fmt_secs(s: u64) -> String {
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

pub fn sessions(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let rows_area = Rect { height: area.height.saturating_sub(1), ..area };
    let title = match app.sessions_sort {
        crate::tui::app::SortBy::Newest => "Sessions".to_string(),
        by => format!("Sessions · by {} (s)", by.name()),
    };
    let b = block(app, &title, true);
    if app.sessions.is_empty() {
        let p = Paragraph::new(vec![
            Line::from(""),
            Line::from(Span::styled("  No sessions yet.", t.base)),
            Line::from(Span::styled("  Press n to make an advert: describe the product, Enter, then approve the story and the scenes.", t.muted)),
        ])
        .block(b);
        f.render_widget(p, rows_area);
    } else {
        let header = Row::new(["", "id (for :resume)", "title", "created", "cost", "score", "status"]).style(t.muted);
        let rows: Vec<Row> = app
            .sessions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let sel = i == app.sessions_sel;
                let status_style = if r.error.is_some() || r.damage.is_some() || r.status.starts_with("failed") {
                    t.error
                } else if r.status == "done" {
                    t.good
                } else {
                    t.acceptable
                };
                Row::new(vec![
                    Cell::from(if sel { "▶" } else { " " }),
                    Cell::from(Span::styled(r.id.clone(), t.muted)),
                    Cell::from(r.label()),
                    Cell::from(if r.created_at_ms == 0 { "—".to_string() } else { format_time(r.created_at_ms) }),
                    Cell::from(format!("${:.2}", r.cost_usd)),
                    Cell::from(match (r.score, r.score_stale) {
                        (Some(s), false) => Span::raw(format!("{s:.0}")),
                        (Some(s), true) => Span::styled(format!("{s:.0} stale"), t.muted),
                        (None, _) => Span::raw("—"),
                    }),
                    Cell::from(Span::styled(
                        match (&r.error, &r.damage) {
                            (Some(e), _) => format!("unreadable: {e}"),
                            (None, Some(_)) => format!("{} · ! damaged: admint store check", r.status),
                            (None, None) => r.status.clone(),
                        },
                        status_style,
                    )),
                ])
                .style(if sel { t.selected } else { t.base })
            })
            .collect();
        let table = Table::new(
            rows,
            [Constraint::Length(1), Constraint::Length(22), Constraint::Percentage(24), Constraint::Length(16), Constraint::Length(7), Constraint::Length(8), Constraint::Fill(1)],
        )
        .header(header)
        .block(b);
        f.render_widget(table, rows_area);
        // Rows start under the border and the header.
        let mut hits = app.hits.borrow_mut();
        for i in 0..app.sessions.len().min(rows_area.height.saturating_sub(3) as usize) {
            hits.push((Rect { x: rows_area.x + 1, y: rows_area.y + 2 + i as u16, width: rows_area.width.saturating_sub(2), height: 1 }, crate::tui::app::Hit::Session(i)));
        }
    }
    super::hints(app, f, Rect { y: area.y + area.height.saturating_sub(1), height: 1, ..area });
}

/// The chat as wrapped lines (oldest first) for a given width.
pub fn chat_lines<'a>(app: &App, v: &SessionView, width: u16) -> Vec<Line<'a>> {
    chat_lines_marked(app, v, width).lines
}

/// Where a thumbnail's half-block rows are in the chat's lines (a terminal with graphics
/// draws the picture over them when all of them are in sight).
pub struct ThumbAt {
    pub asset: AssetId,
    pub line: usize,
    pub cols: u16,
    pub rows: u16,
}

/// The chat's lines, the range of lines of the marked message (a search match, drawn in
/// the selection style), and where the thumbnails are.
struct ChatLines<'a> {
    lines: Vec<Line<'a>>,
    marked: Option<(usize, usize)>,
    thumbs: Vec<ThumbAt>,
}

/// Left margin of a chat thumbnail, in cells.
const THUMB_INDENT: u16 = 3;

fn chat_lines_marked<'a>(app: &App, v: &SessionView, width: u16) -> ChatLines<'a> {
    let t = &app.theme;
    let w = width.max(10) as usize;
    let mut out = Vec::new();
    let mut marked = None;
    let mut thumbs = Vec::new();
    for (index, m) in v.chat.iter().enumerate() {
        let start = out.len();
        let (prefix, style) = match m.who {
            Who::User => ("you › ", t.user),
            Who::System => ("• ", t.system),
            Who::Error => ("✗ ", t.error),
            Who::Good => ("✓ ", t.good),
        };
        let badge = m.badge.as_ref().map(|b| format!("[{b}] ")).unwrap_or_default();
        let mut first = true;
        for para in m.text.lines() {
            let avail = w.saturating_sub(prefix.chars().count()).max(4);
            // Only the message's first line shares its row with the badge.
            let first_avail = if first { avail.saturating_sub(badge.chars().count()).max(4) } else { avail };
            // A path longer than the line is shortened in the middle, never split.
            let para: String = para
                .split(' ')
                .map(|word| if word.contains('/') && word.chars().count() > first_avail { crate::text::ellipsize_middle(word, first_avail) } else { word.to_string() })
                .collect::<Vec<_>>()
                .join(" ");
            for chunk in crate::text::wrap_hanging(&para, first_avail, avail) {
                let mut spans = Vec::new();
                if first {
                    spans.push(Span::styled(prefix, style.add_modifier(Modifier::BOLD)));
                    if !badge.is_empty() {
                        spans.push(Span::styled(badge.clone(), t.accent));
                    }
                    first = false;
                } else {
                    spans.push(Span::raw(" ".repeat(prefix.chars().count())));
                }
                spans.push(Span::styled(chunk, style));
                out.push(Line::from(spans));
            }
        }
        if let Some(img) = &m.image {
            match app.thumbs.get(img).filter(|_| !app.thumbs_folded) {
                None if app.thumbs_folded => out.push(Line::from(Span::styled("   ▣ image (f unfolds, p previews)", t.muted))),
                Some(thumb) => {
                    let cols = thumb.first().map_or(0, |l| l.width()) as u16;
                    thumbs.push(ThumbAt { asset: img.clone(), line: out.len(), cols, rows: thumb.len() as u16 });
                    for l in thumb {
                        let mut spans = vec![Span::raw(" ".repeat(THUMB_INDENT as usize))];
                        spans.extend(l.spans.iter().cloned());
                        out.push(Line::from(spans));
                    }
                }
                None => out.push(Line::from(Span::styled("   ▣ image — focus Chat (Tab) and press p to preview", t.muted))),
            }
        }
        if v.chat_mark == Some(index) {
            for l in &mut out[start..] {
                *l = l.clone().patch_style(t.selected);
            }
            marked = Some((start, out.len()));
        }
    }
    ChatLines { lines: out, marked, thumbs }
}

/// The images the chat draws with the terminal's graphics, and their sizes in cells
/// (prepared off the UI thread before they are drawn): every unfolded thumbnail.
pub fn chat_pictures(app: &App) -> Vec<(AssetId, u16, u16)> {
    if app.thumbs_folded {
        return Vec::new();
    }
    let Some(v) = &app.session else { return Vec::new() };
    let mut out: Vec<(AssetId, u16, u16)> = Vec::new();
    for img in v.chat.iter().filter_map(|m| m.image.as_ref()) {
        if let Some(thumb) = app.thumbs.get(img) {
            let size = (img.clone(), thumb.first().map_or(0, |l| l.width()) as u16, thumb.len() as u16);
            if !out.contains(&size) {
                out.push(size);
            }
        }
    }
    out
}

/// The key of a picture prepared for the terminal's graphics at a size in cells.
pub fn picture_key(asset: &AssetId, cols: u16, rows: u16) -> String {
    format!("{asset}:{cols}x{rows}")
}

/// Whether pictures go to the terminal's graphics (sixel, kitty, iTerm2), not half-blocks.
pub fn graphical(images: &Images) -> bool {
    images.picker.as_ref().is_some_and(|p| p.protocol_type() != ratatui_image::picker::ProtocolType::Halfblocks)
}

/// The chat; `graphics`: thumbnails in full sight may be drawn with the terminal's
/// graphics (no popup covers the chat).
pub fn chat(app: &App, images: &Images, graphics: bool, f: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Chat;
    let b = block(app, "Chat", focused);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some(v) = &app.session else {
        let p = Paragraph::new(vec![
            Line::from(Span::styled("Describe your advert below and press Enter.", app.theme.base)),
            Line::from(""),
            Line::from(Span::styled("Optional lines: name: AirRun Pro · cta: Shop now · aspect: 9:16 · duration: 15 · framework: pas · template: lifestyle_ad", app.theme.muted)),
        ])
        .wrap(ratatui::widgets::Wrap { trim: true });
        f.render_widget(p, inner);
        return;
    };
    let ChatLines { lines, marked, thumbs } = chat_lines_marked(app, v, inner.width);
    let h = inner.height as usize;
    let max_scroll = lines.len().saturating_sub(h);
    // A marked message (a search match) is scrolled into view, its first line on top
    // when it is longer than the panel.
    let scroll = match marked {
        Some((start, end)) => lines.len().saturating_sub(end.max(start + 1).min(start + h).max(h.min(lines.len()))),
        None => v.chat_scroll,
    }
    .min(max_scroll);
    let end = lines.len() - scroll;
    let start = end.saturating_sub(h);
    let mut shown: Vec<Line> = lines[start..end].to_vec();
    // The last row says what is below when scrolled back: it holds no picture.
    let visible_end = if scroll > 0 { end - 1 } else { end };
    if scroll > 0 {
        if let Some(last) = shown.last_mut() {
            *last = Line::from(Span::styled(format!("── {scroll} more below: G to follow ──"), app.theme.accent));
        }
    }
    // A thumbnail wholly in sight, with its picture ready, is drawn by the terminal's
    // graphics over blank rows; one cut by the panel's edge stays half-blocks (graphics
    // cannot be cut).
    let mut pictures = Vec::new();
    if graphics && app.images && !app.theme.no_color && graphical(images) {
        for th in thumbs.iter().filter(|th| th.line >= start && th.line + th.rows as usize <= visible_end) {
            if let Some(p) = images.ready.get(&picture_key(&th.asset, th.cols, th.rows)) {
                for l in &mut shown[th.line - start..th.line - start + th.rows as usize] {
                    *l = Line::raw("");
                }
                let at = Rect { x: inner.x + THUMB_INDENT, y: inner.y + (th.line - start) as u16, width: th.cols.min(inner.width.saturating_sub(THUMB_INDENT)), height: th.rows };
                pictures.push((p, at));
            }
        }
    }
    f.render_widget(Paragraph::new(shown), inner);
    for (p, at) in pictures {
        f.render_widget(ratatui_image::Image::new(p), at);
    }
}

pub fn preview(app: &App, images: &Images, asset: &AssetId, f: &mut Frame, area: Rect) {
    // Which image this is, and focused only when the chat (which it stands in for) is.
    let what = app.session.as_ref().and_then(|v| {
        let s = &v.state;
        let scene = s.scenes.iter().position(|sc| s.keyframes.get(&sc.id).is_some_and(|k| &k.image == asset)).map(|i| format!("scene {} keyframe", i + 1));
        scene.or_else(|| s.references.values().find(|r| &r.image == asset).map(|r| format!("{} reference", r.kind.id())))
    });
    let title = match what {
        Some(w) => format!("Preview: {w} (Esc closes)"),
        None => "Preview (Esc closes)".to_string(),
    };
    let b = block(app, &title, app.focus == Focus::Chat);
    let inner = b.inner(area);
    f.render_widget(b, area);
    if !app.images {
        f.render_widget(Paragraph::new(Span::styled(format!("images are off (--no-images); file {asset}"), app.theme.muted)), inner);
        return;
    }
    // Half-blocks are colour or nothing: without colour they are a solid block.
    let halfblocks = images.picker.as_ref().is_none_or(|p| p.protocol_type() == ratatui_image::picker::ProtocolType::Halfblocks);
    if app.theme.no_color && halfblocks {
        let msg = format!("previews need colour: NO_COLOR is set. Unset it, or use a terminal with sixel or kitty graphics (image_protocol). The image is {asset}.");
        f.render_widget(Paragraph::new(msg).style(app.theme.muted).wrap(ratatui::widgets::Wrap { trim: true }), inner);
        return;
    }
    let key = picture_key(asset, inner.width, inner.height);
    match images.ready.get(&key) {
        Some(p) => f.render_widget(ratatui_image::Image::new(p), inner),
        None => f.render_widget(Paragraph::new(Span::styled("loading preview…", app.theme.muted)), inner),
    }
}

pub fn scenes(app: &App, f: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Scenes;
    let t = &app.theme;
    // The scenes' total against the time the brief's length leaves them, always in sight:
    // the longest wording that fits the panel's border, the offset last to go.
    let titles: Vec<String> = match app.session.as_ref().map(|v| &v.state).filter(|s| !s.scenes.is_empty()) {
        Some(s) => {
            let total = s.scenes_duration();
            match s.brief.as_ref() {
                Some(_) => {
                    let target = s.scenes_target_s();
                    let off = if (total - target).abs() > 0.25 { format!(" ({:+.1} s)", total - target) } else { String::new() };
                    let advert = s.render.as_ref().map_or(total, |r| r.total_s(total));
                    let mut t = Vec::new();
                    if advert > total + 0.01 {
                        t.push(format!("Scenes · {total:.1} s + cards = {advert:.1} s{off}"));
                        t.push(format!("Scenes {total:.1} s, advert {advert:.1} s{off}"));
                    }
                    t.push(format!("Scenes · {total:.1} s{off}"));
                    t.push(format!("Scenes {total:.1}s{}", off.replace(" s)", ")")));
                    t
                }
                None => vec![format!("Scenes · {total:.1} s")],
            }
        }
        None => vec!["Scenes".to_string()],
    };
    let room = area.width.saturating_sub(6) as usize;
    let title = titles.iter().find(|t| t.chars().count() <= room).unwrap_or_else(|| titles.last().expect("one title")).clone();
    let b = block(app, &title, focused);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some(v) = &app.session else { return };
    let s = &v.state;
    if s.scenes.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("scenes appear after the story is approved", t.muted)), inner);
        return;
    }
    let w = inner.width as usize;
    let mut lines = Vec::new();
    // Which scene each line belongs to, for clicks.
    let mut owner: Vec<usize> = Vec::new();
    for (i, sc) in s.scenes.iter().enumerate() {
        owner.resize(lines.len(), i.saturating_sub(1));
        let sel = i == v.scene_sel;
        let head = format!("{}{} {:>4.1}s {:<9} ", if sel { "▶" } else { " " }, i + 1, sc.duration_s, sc.camera.id());
        let text = if sc.on_screen_text.is_empty() { "(no text)".to_string() } else { format!("\"{}\"", sc.on_screen_text) };
        let style = if sel && focused { t.selected } else if sel { t.base.add_modifier(Modifier::BOLD) } else { t.base };
        let room = w.saturating_sub(head.chars().count());
        lines.push(Line::from(vec![Span::styled(head, style), Span::styled(text.chars().take(room).collect::<String>(), style)]));
        if sel {
            let most = if app.full_description { usize::MAX } else { 2 };
            for l in wrap_text(&sc.description, w.saturating_sub(3).max(4), most) {
                lines.push(Line::from(Span::styled(format!("   {l}"), t.muted)));
            }
            lines.push(Line::from(Span::styled(format!("   in: {} (t)", sc.transition), t.muted)));
            let (vo, warn) = voice_line(s, sc);
            lines.push(Line::from(Span::styled(format!("   vo: {}", vo.chars().take(w.saturating_sub(7)).collect::<String>()), if warn { t.poor } else { t.muted })));
        }
    }
    owner.resize(lines.len(), s.scenes.len().saturating_sub(1));
    // Keep the selected scene in view.
    let sel_line = s.scenes.iter().take(v.scene_sel).count();
    let h = inner.height as usize;
    let skip = (sel_line + 3).saturating_sub(h);
    {
        let mut hits = app.hits.borrow_mut();
        for (row, scene) in owner.iter().skip(skip).take(h).enumerate() {
            hits.push((Rect { y: inner.y + row as u16, height: 1, ..inner }, crate::tui::app::Hit::Scene(*scene)));
        }
    }
    f.render_widget(Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()), inner);
}

/// A scene's voiceover in the editor: the line, and its measured length against the
/// room the scene leaves (or its estimate at the brief's pace before it is spoken);
/// `true` when it does not fit as it is.
fn voice_line(s: &crate::domain::SessionState, sc: &crate::domain::Scene) -> (String, bool) {
    use crate::domain::{fit_tempo, speech_room_s, spoken_s, word_budget, word_count};
    let line = sc.voiceover.trim();
    if line.is_empty() {
        return ("(none) (v)".into(), false);
    }
    let room = speech_room_s(sc.duration_s);
    let fit = match s.voices.get(&sc.id).filter(|t| t.text == line) {
        Some(take) => match fit_tempo(take.duration_s, sc.duration_s) {
            Some(t) if t > 1.001 => (format!("{:.2}s in {room:.2}s: {:.0}% faster", take.duration_s, (t - 1.0) * 100.0), false),
            Some(_) => (format!("{:.2}s in {room:.2}s", take.duration_s), false),
            None => (format!("{:.2}s in {room:.2}s: overruns", take.duration_s), true),
        },
        None => {
            let wps = s.brief().wps();
            let (n, budget) = (word_count(line), word_budget(sc.duration_s, wps));
            (format!("~{:.1}s, {n}/{budget} words", spoken_s(line, wps)), n > budget)
        }
    };
    (format!("\"{line}\" — {} (v)", fit.0), fit.1)
}

/// What a clip is doing, in words, and its progress 0..1.
pub fn clip_status(v: &SessionView, scene_id: u32) -> (String, f32) {
    let s = &v.state;
    if let Some(f) = s.clip_failures.get(&scene_id) {
        return (format!("failed: {}", f.error), 0.0);
    }
    if let Some(c) = s.clips.get(&scene_id) {
        if !s.scores.contains_key(&ScoreTarget::Clip(scene_id)) && v.run != RunState::Idle {
            return ("scoring…".into(), 1.0);
        }
        return (if c.cached { "done (cached)".into() } else { "done".into() }, 1.0);
    }
    if let Some(p) = v.live.get(&Task::Clip(scene_id)) {
        return (format!("rendering {:>3.0}%", p * 100.0), *p);
    }
    if s.clips_started.contains_key(&scene_id) && v.run == RunState::Running {
        return ("submitting".into(), 0.0);
    }
    if s.keyframes.contains_key(&scene_id) || s.stages_started.contains(&Stage::Keyframes) {
        return ("queued".into(), 0.0);
    }
    ("waiting".into(), 0.0)
}

fn bar(ratio: f32, width: usize) -> String {
    let full = (ratio.clamp(0.0, 1.0) * width as f32).round() as usize;
    format!("{}{}", "█".repeat(full), "░".repeat(width - full))
}

pub fn progress(app: &App, f: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Progress;
    let t = &app.theme;
    let b = block(app, "Progress", focused);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some(v) = &app.session else { return };
    let s = &v.state;
    let w = inner.width as usize;
    let mut lines = Vec::new();
    // Elapsed, ETA and cost against the budget.
    let clip_total = s.scenes.len();
    let clip_done = s.scenes.iter().filter(|sc| s.clips.contains_key(&sc.id)).count();
    let now = app.now_ms.max(s.updated_at_ms);
    let elapsed = v.elapsed_s(now);
    let eta = v.clips_eta_s(now);
    let cost = s.total_cost();
    let budget = s.brief.as_ref().and_then(|b| b.budget_usd);
    let mut head = format!("clips {clip_done}/{clip_total}");
    if let Some(e) = elapsed {
        head.push_str(&format!(" · {}", fmt_secs(e)));
    }
    if let Some(e) = eta {
        head.push_str(&format!(" · ETA {}", fmt_secs(e)));
    }
    head.push_str(&match budget {
        Some(b) => format!(" · ${cost:.2}/${b:.2}"),
        None => format!(" · ${cost:.2}"),
    });
    let over = budget.is_some_and(|b| cost > b * 0.9);
    lines.push(Line::from(Span::styled(head, if over { t.poor } else { t.muted })));
    let label_w = 8;
    let bar_w = w.saturating_sub(label_w + 18).clamp(4, 30);
    for (i, sc) in s.scenes.iter().enumerate() {
        let (text, ratio) = clip_status(v, sc.id);
        let style = if text.starts_with("failed") {
            t.error
        } else if text.starts_with("done") {
            t.good
        } else {
            t.gauge
        };
        let sel = focused && i == v.progress_sel;
        let label = format!("{}clip {:<2}", if sel { "▶" } else { " " }, i + 1);
        let room = w.saturating_sub(label.chars().count() + bar_w + 2);
        lines.push(Line::from(vec![
            Span::styled(label, if sel { t.selected } else { t.base }),
            Span::styled(format!(" {} ", bar(ratio, bar_w)), style),
            Span::styled(text.chars().take(room).collect::<String>(), style),
        ]));
    }
    // The sound: voice lines recorded of those written, and the music bed.
    let lines_written = s.scenes.iter().filter(|sc| !sc.voiceover.trim().is_empty()).count();
    let voiced = s.scenes.iter().filter(|sc| s.voices.get(&sc.id).is_some_and(|t| t.text == sc.voiceover.trim())).count();
    let speaking = v.live.iter().filter(|(k, _)| matches!(k, Task::Voice(_))).count();
    let music = match (&s.music, v.live.get(&Task::Music)) {
        (_, Some(p)) if v.run == RunState::Running => format!("music {:>3.0}%", p * 100.0),
        (Some(m), _) => format!("music: {}{}", m.mood, m.bpm.map(|b| format!(" {b:.0} bpm")).unwrap_or_default()),
        (None, _) if s.brief.as_ref().is_some_and(|b| b.assets.music.is_some()) => "music: yours".into(),
        (None, _) => "music: —".into(),
    };
    if !s.scenes.is_empty() {
        let voice = if s.voices.is_empty() && speaking == 0 {
            "no voiceover".to_string()
        } else {
            format!("voice {voiced}/{lines_written}{}", if speaking > 0 { format!(" ({speaking} speaking)") } else { String::new() })
        };
        let text = format!(" sound   {voice} · {music}");
        lines.push(Line::from(Span::styled(text.chars().take(w).collect::<String>(), t.muted)));
    }
    if let Some(p) = v.live.get(&Task::Compose).filter(|_| s.final_video.is_none() || v.run == RunState::Running) {
        lines.push(Line::from(vec![Span::styled(" compose ", t.base), Span::styled(format!("{} {:>3.0}%", bar(*p, bar_w), p * 100.0), t.gauge)]));
    }
    if let Some(fv) = &s.final_video {
        lines.push(Line::from(Span::styled(format!(" final: {:.1}s {}x{} — path in the chat", fv.duration_s, fv.width, fv.height), t.good)));
    }
    let h = inner.height as usize;
    let skip = if focused { (v.progress_sel + 2).saturating_sub(h) } else { 0 };
    f.render_widget(Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()), inner);
}

fn grade(app: &App, v: f64) -> Style {
    if v >= app.thresholds.0 {
        app.theme.good
    } else if v >= app.thresholds.1 {
        app.theme.acceptable
    } else {
        app.theme.poor
    }
}

fn score_spans(app: &App, score: Option<&Score>, pending: bool, width: usize) -> Vec<Span<'static>> {
    let t = &app.theme;
    match score {
        None if pending => vec![Span::styled("scoring…", t.muted)],
        None => vec![Span::styled("—", t.muted)],
        Some(Score::NotScored { .. }) => vec![Span::styled("not scored (scoring is off)", t.muted)],
        Some(Score::Unavailable { .. }) => vec![Span::styled("unavailable", t.poor)],
        Some(Score::Scored { dimensions, quality, gates, .. }) => {
            let mut spans = vec![Span::styled(format!("{quality:>3.0} "), grade(app, *quality).add_modifier(Modifier::BOLD))];
            let worst = gates.iter().map(|g| g.verdict).max();
            let flagged: Vec<&str> = gates.iter().filter(|g| g.verdict != Verdict::Pass).map(|g| g.gate.as_str()).collect();
            let (badge, style) = match worst {
                None => (String::new(), t.muted),
                Some(Verdict::Pass) => ("QC ok ".to_string(), t.good),
                Some(v) => (format!("QC {}: {} ", v.label(), flagged.join(",")), if v == Verdict::Fail { t.poor } else { t.acceptable }),
            };
            let mut used = 4 + badge.chars().count();
            if !badge.is_empty() {
                spans.push(Span::styled(badge, style));
            }
            for (name, d) in dimensions {
                let short = dimension_short(name);
                let mark = match d.method {
                    Method::Approximation => "~",
                    Method::Heuristic => "*",
                    _ => "",
                };
                let (cell, val) = if name == "dynamic_degree" {
                    (format!("{short}:{}{mark} ", if d.value >= 0.5 { "yes" } else { "no" }), 100.0)
                } else {
                    (format!("{short}:{:.0}{mark} ", d.value * 100.0), d.value * 100.0)
                };
                if used + cell.len() > width {
                    break;
                }
                used += cell.len();
                spans.push(Span::styled(cell, grade(app, val)));
            }
            spans
        }
    }
}

pub fn quality(app: &App, f: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Quality;
    let b = block(app, "Quality", focused);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some(v) = &app.session else { return };
    let s: &SessionState = &v.state;
    let w = inner.width as usize;
    let mut lines = Vec::new();
    let final_pending = s.final_video.is_some() && v.run != RunState::Idle;
    let mut spans = vec![Span::styled("overall ", app.theme.base.add_modifier(Modifier::BOLD))];
    spans.extend(score_spans(app, s.scores.get(&ScoreTarget::Final).map(|r| &r.score), final_pending, w.saturating_sub(8)));
    lines.push(Line::from(spans));
    for (i, sc) in s.scenes.iter().enumerate() {
        let pending = s.clips.contains_key(&sc.id) && v.run != RunState::Idle;
        let mut spans = vec![Span::styled(format!("clip {:<3}", i + 1), app.theme.base)];
        let rec = s.scores.get(&ScoreTarget::Clip(sc.id)).filter(|r| s.clips.get(&sc.id).is_some_and(|c| c.video == r.video));
        spans.extend(score_spans(app, rec.map(|r| &r.score), pending, w.saturating_sub(8)));
        lines.push(Line::from(spans));
    }
    // The sound as measured on the final: its loudness against the target, whatever
    // the verdict.
    if let Some(Score::Scored { gates, .. }) = s.scores.get(&ScoreTarget::Final).map(|r| &r.score) {
        if let Some(g) = gates.iter().find(|g| g.gate == "loudness") {
            let style = match g.verdict {
                Verdict::Pass => app.theme.good,
                Verdict::Warn => app.theme.acceptable,
                Verdict::Fail => app.theme.poor,
            };
            let voices = s.voices.len();
            let extra = if voices > 0 { format!(" · {voices} voice line{}", if voices == 1 { "" } else { "s" }) } else { String::new() };
            let text = format!("sound   {}{extra}", g.detail);
            lines.push(Line::from(Span::styled(text.chars().take(w).collect::<String>(), style)));
        }
    }
    // What the advert's gates flagged, then a legend, while there is room.
    if let Some(Score::Scored { gates, .. }) = s.scores.get(&ScoreTarget::Final).map(|r| &r.score) {
        for g in gates.iter().filter(|g| g.verdict != Verdict::Pass && g.gate != "loudness") {
            let style = if g.verdict == Verdict::Fail { app.theme.poor } else { app.theme.acceptable };
            lines.push(Line::from(Span::styled(format!(" {} {}: {}", g.gate, g.verdict.label(), g.detail), style)));
        }
    }
    // The legend: every abbreviation shown, spelled out.
    let mut names: Vec<&String> = s.scores.values().filter_map(|r| match &r.score {
        Score::Scored { dimensions, .. } => Some(dimensions.keys()),
        _ => None,
    }).flatten().collect();
    names.sort();
    names.dedup();
    if !names.is_empty() {
        let mut legend: Vec<String> = names.iter().map(|n| format!("{} {}", dimension_short(n), n.replace('_', " "))).collect();
        legend.push("~ approximation of VBench".into());
        legend.push("* heuristic".into());
        // Packed whole: an entry is never split across lines.
        let mut row = String::new();
        for entry in legend {
            if !row.is_empty() && row.chars().count() + 3 + entry.chars().count() > w.saturating_sub(1) {
                lines.push(Line::from(Span::styled(format!(" {row}"), app.theme.muted)));
                row.clear();
            }
            if !row.is_empty() {
                row.push_str(" · ");
            }
            row.push_str(&entry);
        }
        if !row.is_empty() {
            lines.push(Line::from(Span::styled(format!(" {row}"), app.theme.muted)));
        }
    }
    // Scrolled with j/k when it does not fit; the last row says what is below.
    let h = inner.height as usize;
    let top = v.quality_scroll.min(lines.len().saturating_sub(h));
    let mut shown: Vec<Line> = lines.iter().skip(top).take(h).cloned().collect();
    let below = lines.len().saturating_sub(top + h);
    if below > 0 {
        if let Some(last) = shown.last_mut() {
            *last = Line::from(Span::styled(format!("↓ {below} more (j/k)"), app.theme.accent));
        }
    }
    f.render_widget(Paragraph::new(shown), inner);
}

/// A dimension's two-letter name in the Quality panel: its words' initials.
fn dimension_short(name: &str) -> String {
    name.split('_').map(|w| w.chars().next().unwrap_or(' ')).collect()
}
