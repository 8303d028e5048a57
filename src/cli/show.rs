//! `admint show`: an image in a plain terminal, through viuer (never inside the TUI).

use std::path::{Path, PathBuf};

use super::args::ShowArgs;
use super::{AppEnv, CliError};
use crate::domain::SessionState;
use crate::media::Ffmpeg;

fn is_video(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(), Some("mp4" | "mov" | "mkv" | "webm"))
}

/// The middle frame of a video as a PNG in the temp dir.
fn middle_frame(video: &Path) -> Result<tempfile::TempPath, CliError> {
    let ff = Ffmpeg::locate().map_err(|e| CliError::usage(e.to_string()))?;
    let probe = ff.probe(video).map_err(|e| CliError::usage(e.to_string()))?;
    let out = tempfile::Builder::new().suffix(".png").tempfile().map_err(|e| CliError::failed(e.to_string()))?.into_temp_path();
    let args: Vec<std::ffi::OsString> = vec![
        "-ss".into(), format!("{:.3}", probe.duration_s / 2.0).into(), "-i".into(), video.as_os_str().to_owned(),
        "-frames:v".into(), "1".into(), "-update".into(), "1".into(), out.as_os_str().to_owned(),
    ];
    ff.run("frame", &args, None, None, |_| {}).map_err(|e| CliError::failed(e.to_string()))?;
    Ok(out)
}

/// What to show for a target: a file as it is, or a session's keyframe / final video.
fn resolve(a: &ShowArgs) -> Result<PathBuf, CliError> {
    let p = PathBuf::from(&a.target);
    if p.is_file() {
        return Ok(p);
    }
    let env = AppEnv::open()?;
    let events = env.store.events(&a.target).map_err(|_| CliError::usage(format!("'{}' is neither a file nor a session id (see `admint sessions list`)", a.target)))?;
    let state = SessionState::fold(&events);
    let asset = match a.scene {
        Some(n) => {
            let scene = crate::domain::scene_at(&state, n).map_err(|e| CliError::usage(e.to_string()))?;
            state.keyframes.get(&scene.id).map(|k| k.image.clone()).ok_or_else(|| CliError::usage(format!("scene {n} has no keyframe yet")))?
        }
        None => match (&state.final_video, state.scenes.first().and_then(|s| state.keyframes.get(&s.id))) {
            (Some(f), _) => f.video.clone(),
            (None, Some(k)) => k.image.clone(),
            (None, None) => return Err(CliError::usage(format!("session {} has no image yet", a.target))),
        },
    };
    env.store.blobs.existing(&asset).map_err(|e| CliError::failed(e.to_string()))
}

/// A session's mood board: the contact sheet, and a line per row saying what it is and
/// which candidate is used.
fn board(a: &ShowArgs) -> Result<(image::DynamicImage, Vec<String>), CliError> {
    let env = AppEnv::open()?;
    let events = env.store.events(&a.target).map_err(|_| CliError::usage(format!("'{}' is not a session id (see `admint sessions list`)", a.target)))?;
    let state = SessionState::fold(&events);
    if state.candidates.is_empty() {
        return Err(CliError::usage(format!("session {} has no mood board: make one with `admint generate --candidates 3 …`", a.target)));
    }
    let mut paths = Vec::new();
    let mut lines = Vec::new();
    for (slot, (_, imgs)) in &state.candidates {
        let row: Vec<PathBuf> = imgs.iter().map(|i| env.store.blobs.existing(i)).collect::<Result<_, _>>().map_err(|e| CliError::failed(e.to_string()))?;
        let pick = state.picks.get(slot).map(|(i, _)| *i);
        let name = match slot {
            crate::domain::Slot::Reference(k) => format!("{} reference", k.id()),
            crate::domain::Slot::Keyframe(_) => crate::pipeline::narrate::slot_word(slot, &state),
        };
        let by = match state.picks.get(slot) {
            Some((i, crate::domain::Approver::User)) => format!("{} (your pick)", crate::domain::candidate_letter(*i)),
            Some((i, _)) => format!("{} (auto)", crate::domain::candidate_letter(*i)),
            None => "none yet".into(),
        };
        lines.push(format!("row {}: {name} — candidates a–{}, using {by}", lines.len() + 1, crate::domain::candidate_letter(imgs.len().saturating_sub(1))));
        paths.push((row, pick));
    }
    let rows: Vec<(Vec<&Path>, Option<usize>)> = paths.iter().map(|(r, p)| (r.iter().map(|p| p.as_path()).collect(), *p)).collect();
    let sheet = crate::media::contact_sheet(&rows, 180, [255, 214, 10]).map_err(|e| CliError::failed(e.to_string()))?;
    Ok((image::DynamicImage::ImageRgb8(sheet), lines))
}

pub async fn show(a: ShowArgs) -> Result<(), CliError> {
    let (img, notes) = if a.board {
        board(&a)?
    } else {
        let path = resolve(&a)?;
        let frame = if is_video(&path) { Some(middle_frame(&path)?) } else { None };
        let image_path: &Path = frame.as_deref().unwrap_or(&path);
        (image::open(image_path).map_err(|e| CliError::usage(format!("{} is not a readable image: {e}", path.display())))?, vec![])
    };
    if let Some(out) = &a.save {
        img.save(out).map_err(|e| CliError::failed(format!("cannot write {}: {e}", out.display())))?;
    }
    for l in &notes {
        println!("{l}");
    }
    let width = a.width.or_else(|| crossterm::terminal::size().ok().map(|(w, _)| w as u32)).unwrap_or(80).clamp(8, 400);
    // The terminal is asked what it draws, as the TUI does: sixel here, kitty through
    // viuer; a terminal that speaks either has true colour for half-blocks too.
    let answer = crate::tui::graphics::ask(std::time::Duration::from_millis(400)).answer;
    if let Some(cell) = answer.filter(|a| a.sixel && !a.kitty).map(|a| crate::tui::graphics::cell_size(Some(a))) {
        let px = (width * cell.0 as u32).min(4096);
        let rgba = img.resize(px, px * 4, image::imageops::FilterType::Triangle).to_rgba8();
        let sixel = icy_sixel::sixel_encode(rgba.as_raw(), rgba.width() as usize, rgba.height() as usize, &icy_sixel::EncodeOptions::default())
            .map_err(|e| CliError::failed(format!("cannot encode the image as sixel: {e}")))?;
        use std::io::Write;
        let mut out = std::io::stdout();
        out.write_all(sixel.as_bytes()).and_then(|()| writeln!(out)).and_then(|()| out.flush()).map_err(|e| CliError::failed(format!("cannot print the image: {e}")))?;
        return Ok(());
    }
    let graphics = answer.is_some_and(|a| a.kitty || a.sixel);
    let conf = viuer::Config { width: Some(width), absolute_offset: false, use_kitty: answer.is_none_or(|a| a.kitty), truecolor: graphics || viuer::Config::default().truecolor, ..Default::default() };
    viuer::print(&img, &conf).map_err(|e| CliError::failed(format!("cannot print the image: {e}")))?;
    Ok(())
}
