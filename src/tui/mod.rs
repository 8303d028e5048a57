//! The full-screen terminal UI. One `App` owns UI state; crossterm events and pipeline
//! updates become `Action`s; `App::update` changes state and asks for `Effect`s;
//! `view::view(&App, …)` draws. Redraws happen only when something changed, at most
//! every 16 ms, inside synchronized output; nothing ticks while idle.

pub mod action;
pub mod app;
pub mod graphics;
pub mod halfblock;
pub mod keymap;
pub mod remembered;
pub mod runtime;
pub mod theme;
pub mod view;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event as CtEvent, EventStream};
use crossterm::terminal::{self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::ExecutableCommand;
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::collections::HashSet;
use std::io::{stdout, Stdout};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use crate::app_env::{AppEnv, EnvError, EXIT_FAILED, EXIT_USAGE};
use action::{Action, Effect};
use app::{App, CHAT_PCT};
use keymap::Keymap;
use runtime::Runtime;
use theme::Theme;
use graphics::Detected;
use view::{preview_size, view, Images};

pub struct TuiOptions {
    pub no_images: bool,
}

/// Why the full-screen UI could not start or went on no longer.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(transparent)]
    Env(#[from] EnvError),
    /// A theme or keymap the user wrote is broken.
    #[error("{0}")]
    Settings(String),
    #[error("the terminal: {0}")]
    Terminal(String),
}

impl TuiError {
    pub fn exit_code(&self) -> u8 {
        match self {
            TuiError::Env(_) | TuiError::Settings(_) => EXIT_USAGE,
            TuiError::Terminal(_) => EXIT_FAILED,
        }
    }
}

fn terminal(e: impl std::fmt::Display) -> TuiError {
    TuiError::Terminal(e.to_string())
}

type Term = Terminal<CrosstermBackend<Stdout>>;

fn restore() {
    let mut out = stdout();
    let _ = out.execute(crossterm::event::DisableMouseCapture);
    let _ = out.execute(DisableBracketedPaste);
    let _ = out.execute(LeaveAlternateScreen);
    let _ = out.execute(crossterm::cursor::Show);
    let _ = terminal::disable_raw_mode();
}

/// Whether the UI takes the mouse (`tui.mouse`), for entering the screen again after Ctrl-Z.
static MOUSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn enter() -> std::io::Result<Term> {
    terminal::enable_raw_mode()?;
    let mut out = stdout();
    out.execute(EnterAlternateScreen)?;
    out.execute(EnableBracketedPaste)?;
    if MOUSE.load(std::sync::atomic::Ordering::Relaxed) {
        out.execute(crossterm::event::EnableMouseCapture)?;
    }
    Terminal::new(CrosstermBackend::new(stdout()))
}

/// Ask the terminal once, before the event stream starts (it would swallow the
/// terminal's replies otherwise), which graphics it draws and how large a cell is.
/// Terminals without graphics (most over SSH, tmux without sixel) get half-blocks. Keys
/// typed while the answer was awaited are handed back.
fn detect_graphics() -> (Detected, Vec<crossterm::event::KeyEvent>) {
    use ratatui_image::picker::ProtocolType;
    let asked = graphics::ask(Duration::from_millis(400));
    let answer = asked.answer;
    let program = std::env::var("TERM_PROGRAM").unwrap_or_default().to_lowercase();
    // Konsole's sixel and kitty are unreliable, WezTerm's kitty too: iTerm2 there (the
    // environment only adds iTerm2, which has no query of its own).
    let iterm2 = program.contains("iterm") || program.contains("wezterm") || std::env::var_os("KONSOLE_VERSION").is_some();
    let protocol = match answer {
        Some(a) if a.kitty && !iterm2 => ProtocolType::Kitty,
        _ if iterm2 => ProtocolType::Iterm2,
        Some(a) if a.sixel => ProtocolType::Sixel,
        _ => ProtocolType::Halfblocks,
    };
    if answer.is_none() {
        tracing::info!("the terminal did not answer the graphics query; image previews use half-blocks");
    }
    (Detected { protocol, cell: graphics::cell_size(answer), asked: true }, graphics::keys(&asked.typed))
}

/// The picker for a way of drawing pictures (`IMAGE_PROTOCOLS`), given what the terminal
/// said; `None` for `off`.
fn picker_for(how: &str, detected: &Detected) -> Option<ratatui_image::picker::Picker> {
    use ratatui_image::picker::{Picker, ProtocolType};
    let protocol = match how {
        "off" => return None,
        "halfblocks" => return Some(Picker::halfblocks()),
        "kitty" => ProtocolType::Kitty,
        "sixel" => ProtocolType::Sixel,
        "iterm2" => ProtocolType::Iterm2,
        _ => detected.protocol,
    };
    #[allow(deprecated)] // the query in `graphics` replaces ratatui-image's own, which leaves a reader thread
    let mut picker = Picker::from_fontsize(ratatui_image::FontSize { width: detected.cell.0, height: detected.cell.1 });
    picker.set_protocol_type(protocol);
    tracing::info!(protocol = ?picker.protocol_type(), "image protocol");
    Some(picker)
}

fn suspend(term: &mut Term) -> std::io::Result<()> {
    restore();
    // SAFETY: raising SIGTSTP on ourselves stops the process like a shell's Ctrl-Z.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    *term = enter()?;
    term.clear()
}

pub async fn run(env: AppEnv, opts: TuiOptions) -> Result<(), TuiError> {
    let pipeline = env.pipeline()?;
    let tui = env.settings.tui.clone();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let remembered = remembered::Remembered::load(&env.paths.state_dir);
    // The theme chosen last in the UI, else the config's; a remembered one that no longer
    // loads falls back to the config's.
    let theme = Theme::load(remembered.theme_or(&tui.theme), &env.paths.config_dir, no_color)
        .or_else(|_| Theme::load(&tui.theme, &env.paths.config_dir, no_color))
        .map_err(TuiError::Settings)?;
    let keymap = Keymap::load(&env.paths.config_dir).map_err(TuiError::Settings)?;
    // `--no-images` for this run, else the way chosen last in the UI (`:images`), else the config's.
    let drawing = if opts.no_images { "off".to_string() } else { remembered.image_protocol.clone().filter(|h| crate::config::IMAGE_PROTOCOLS.contains(&h.as_str())).unwrap_or_else(|| tui.image_protocol.clone()) };
    let images_on = drawing != "off";
    let mut app = App::new(theme, keymap, pipeline.rules(), images_on);
    app.thresholds = (tui.quality_good, tui.quality_acceptable);
    app.thumbs_folded = remembered.fold_images;
    app.chat_pct = remembered.chat_pct.map(|p| p.clamp(CHAT_PCT.0, CHAT_PCT.1));

    let prev_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        prev_hook(info);
    }));
    MOUSE.store(tui.mouse, std::sync::atomic::Ordering::Relaxed);
    let mut term = enter().map_err(|e| TuiError::Terminal(format!("cannot start the terminal UI: {e}")))?;
    let (detected, typed_ahead) = if images_on { detect_graphics() } else { (Detected::default(), Vec::new()) };
    let mut images = Images { picker: picker_for(&drawing, &detected), detected, ..Default::default() };
    let result = event_loop(&mut term, &mut app, &mut images, pipeline, (remembered, env.paths.state_dir.clone()), typed_ahead).await;
    restore();
    result
}

async fn event_loop(
    term: &mut Term,
    app: &mut App,
    images: &mut Images,
    pipeline: crate::pipeline::Pipeline,
    (mut remembered, state_dir): (remembered::Remembered, std::path::PathBuf),
    typed_ahead: Vec<crossterm::event::KeyEvent>,
) -> Result<(), TuiError> {
    let (tx, mut rx) = mpsc::channel::<Action>(1024);
    // Keys typed while the terminal was asked about graphics come first.
    for k in typed_ahead {
        let _ = tx.try_send(Action::Key(k));
    }
    let (img_tx, mut img_rx) = mpsc::channel::<(String, Option<ratatui_image::protocol::Protocol>)>(8);
    let blobs = pipeline.store.blobs.clone();
    let mut runtime = Runtime::new(pipeline, tx.clone());
    let mut events = EventStream::new();
    let size = term.size().map_err(terminal)?;
    app.size = (size.width, size.height);
    runtime.execute(Effect::LoadSessions);
    let mut pending_images: HashSet<String> = HashSet::new();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut quit_deadline: Option<Instant> = None;
    let mut signals = crate::signals::StopSignals::new(false).map_err(|e| TuiError::Terminal(format!("cannot listen for signals: {e}")))?;
    let mut hung_up = false;
    loop {
        // SIGTERM, SIGHUP, or the terminal gone (its input ends or a frame cannot be
        // written — whichever is noticed first): stop like a confirmed quit.
        let mut stop: Option<(String, bool)> = None;
        if app.dirty {
            let wait = Duration::from_millis(16).saturating_sub(last_draw.elapsed());
            if wait.is_zero() {
                let _ = stdout().execute(BeginSynchronizedUpdate);
                // After a hangup there is nothing to draw on: errors are expected.
                if let (Err(e), false) = (term.draw(|f| view(app, images, f)), hung_up) {
                    stop = Some((format!("the terminal went away (SIGHUP or output error: {e})"), true));
                }
                let _ = stdout().execute(EndSynchronizedUpdate);
                app.dirty = false;
                last_draw = Instant::now();
            }
        }
        let redraw_in = Duration::from_millis(16).saturating_sub(last_draw.elapsed()).max(Duration::from_millis(1));
        let action = if stop.is_some() { None } else { tokio::select! {
            sig = signals.recv() => {
                stop = Some((sig.name().to_string(), sig == crate::signals::Stop::Hangup));
                None
            }
            ev = events.next(), if !hung_up => match ev {
                Some(Ok(CtEvent::Key(k))) => Some(Action::Key(k)),
                Some(Ok(CtEvent::Mouse(m))) => Some(Action::Mouse(m)),
                Some(Ok(CtEvent::Paste(s))) => Some(Action::Paste(s)),
                Some(Ok(CtEvent::Resize(w, h))) => Some(Action::Resize(w, h)),
                Some(Ok(_)) => None,
                Some(Err(e)) => {
                    stop = Some((format!("the terminal went away (SIGHUP or input error: {e})"), true));
                    None
                }
                None => {
                    stop = Some(("the terminal went away (SIGHUP or end of input)".to_string(), true));
                    None
                }
            },
            a = rx.recv() => a,
            img = img_rx.recv() => {
                if let Some((key, proto)) = img {
                    pending_images.remove(&key);
                    match proto {
                        Some(p) => { images.ready.insert(key, p); }
                        None => app.status = "this image could not be decoded".into(),
                    }
                }
                Some(Action::PreviewReady)
            }
            _ = ticker.tick(), if app.is_running() => Some(Action::Tick),
            // The animatic player moves its frame while it plays.
            _ = tokio::time::sleep(Duration::from_millis(125)), if app.playing() => Some(Action::Tick),
            _ = tokio::time::sleep(redraw_in), if app.dirty => None,
            _ = tokio::time::sleep(Duration::from_millis(250)), if quit_deadline.is_some() => {
                if quit_deadline.is_some_and(|d| Instant::now() > d) { return Ok(()); }
                None
            }
        } };
        if let Some((why, hangup)) = stop {
            tracing::info!(signal = %why, "stopping");
            if hangup && !hung_up {
                // Nothing can be shown or typed any more.
                crate::signals::detach_from_terminal();
                hung_up = true;
            }
            if !runtime.has_run() {
                return Ok(());
            }
            app.quitting = true;
            app.status = format!("stopping ({why}): waiting for running work to end…");
            app.dirty = true;
            runtime.execute(Effect::Stop);
            quit_deadline.get_or_insert(Instant::now() + Duration::from_secs(5));
        }
        let Some(action) = action else { continue };
        if let Action::RunFinished { session, .. } | Action::Pipeline(crate::pipeline::Update::Finished { session, .. }) = &action {
            runtime.run_ended(session);
        }
        for effect in app.update(action) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Suspend => suspend(term).map_err(terminal)?,
                Effect::Copy(text) => {
                    use base64::Engine as _;
                    use std::io::Write as _;
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    let mut out = stdout();
                    let _ = write!(out, "\x1b]52;c;{b64}\x07");
                    let _ = out.flush();
                }
                Effect::RememberView { fold_images, chat_pct } => {
                    (remembered.fold_images, remembered.chat_pct) = (fold_images, chat_pct);
                    if let Err(e) = remembered.save(&state_dir) {
                        tracing::warn!(error = %e, "could not remember the layout");
                    }
                }
                Effect::SetTheme(name) => match Theme::load(&name, &runtime.pipeline.paths_config_dir(), app.theme.no_color) {
                    Ok(t) => {
                        app.theme = t;
                        remembered.theme = Some(name);
                        if let Err(e) = remembered.save(&state_dir) {
                            tracing::warn!(error = %e, "could not remember the theme");
                        }
                    }
                    Err(e) => app.status = e,
                },
                Effect::SetImages(how) => {
                    let detected = &images.detected;
                    app.status = match (how.as_str(), detected.asked) {
                        ("auto", false) => "pictures: half-blocks (the terminal was not asked at start: restart admint to detect its graphics)".into(),
                        ("off", _) => "pictures off (:images auto turns them on)".into(),
                        (h, _) => format!("pictures: {h}"),
                    };
                    app.status_is_error = false;
                    images.picker = picker_for(&how, detected);
                    images.ready.clear();
                    pending_images.clear();
                    app.images = images.picker.is_some();
                    remembered.image_protocol = Some(how);
                    if let Err(e) = remembered.save(&state_dir) {
                        tracing::warn!(error = %e, "could not remember how to draw pictures");
                    }
                    // Pictures the terminal drew the old way are wiped by a full redraw.
                    let _ = term.clear();
                    app.dirty = true;
                }
                Effect::Stop if app.quitting => {
                    runtime.execute(Effect::Stop);
                    quit_deadline = Some(Instant::now() + Duration::from_secs(5));
                }
                other => runtime.execute(other),
            }
        }
        // Prepare the pictures off the UI thread, sized for where they will be drawn: the
        // preview, and the chat's thumbnails when the terminal draws graphics.
        if let Some(picker) = &images.picker {
            let mut wanted = Vec::new();
            if let Some(asset) = &app.preview {
                let (w, h) = preview_size(app);
                wanted.push((asset.clone(), w, h));
            }
            if view::graphical(images) {
                wanted.extend(view::chat_pictures(app));
            }
            for (asset, w, h) in wanted {
                let key = view::picture_key(&asset, w, h);
                if !images.ready.contains_key(&key) && pending_images.insert(key.clone()) {
                    let (picker, path, tx) = (picker.clone(), blobs.path(&asset), img_tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let proto = image::open(&path).ok().and_then(|img| {
                            picker.new_protocol(img, ratatui::layout::Size::new(w, h), ratatui_image::Resize::Scale(Some(image::imageops::FilterType::Triangle))).ok()
                        });
                        let _ = tx.blocking_send((key, proto));
                    });
                }
            }
        }
    }
}
