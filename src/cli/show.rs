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

pub async fn show(a: ShowArgs) -> Result<(), CliError> {
    let path = resolve(&a)?;
    let frame = if is_video(&path) { Some(middle_frame(&path)?) } else { None };
    let image_path: &Path = frame.as_deref().unwrap_or(&path);
    let img = image::open(image_path).map_err(|e| CliError::usage(format!("{} is not a readable image: {e}", path.display())))?;
    let width = a.width.or_else(|| crossterm::terminal::size().ok().map(|(w, _)| w as u32)).unwrap_or(80).clamp(8, 400);
    let conf = viuer::Config { width: Some(width), absolute_offset: false, ..Default::default() };
    viuer::print(&img, &conf).map_err(|e| CliError::failed(format!("cannot print the image: {e}")))?;
    Ok(())
}
