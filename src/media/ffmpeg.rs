//! The system's ffmpeg and ffprobe: finding them, running them with progress and
//! cancellation, and probing media files.

use ffmpeg_sidecar::command::FfmpegCommand;
use ffmpeg_sidecar::event::{FfmpegEvent, LogLevel};
use serde::Serialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use super::MediaError;

/// The descriptor of the first pipe `Ffmpeg::run_fed` hands to ffmpeg (`pipe:3`).
pub const FIRST_FED_FD: i32 = 3;

/// The system's ffmpeg and ffprobe.
#[derive(Debug, Clone)]
pub struct Ffmpeg {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

/// What ffprobe says about a media file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub duration_s: f64,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub video_codec: String,
    pub pix_fmt: String,
    pub has_audio: bool,
    /// Channels of the first audio stream (0 without audio).
    pub audio_channels: u32,
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn runs(bin: &Path) -> bool {
    Command::new(bin).arg("-version").output().map(|o| o.status.success()).unwrap_or(false)
}

impl Ffmpeg {
    /// `ADMINT_FFMPEG` (and `ADMINT_FFPROBE`) if set, else `ffmpeg` / `ffprobe` on PATH.
    pub fn locate() -> Result<Ffmpeg, MediaError> {
        let ffmpeg = match std::env::var_os("ADMINT_FFMPEG").filter(|v| !v.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => which("ffmpeg").ok_or(MediaError::FfmpegMissing)?,
        };
        if !runs(&ffmpeg) {
            return Err(MediaError::FfmpegMissing);
        }
        let ffprobe = match std::env::var_os("ADMINT_FFPROBE").filter(|v| !v.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => {
                let sibling = ffmpeg.with_file_name("ffprobe");
                if sibling.is_file() {
                    sibling
                } else {
                    which("ffprobe").ok_or(MediaError::FfprobeMissing)?
                }
            }
        };
        if !runs(&ffprobe) {
            return Err(MediaError::FfprobeMissing);
        }
        Ok(Ffmpeg { ffmpeg, ffprobe })
    }

    /// First line of `ffmpeg -version`.
    pub fn version(&self) -> Result<String, MediaError> {
        let out = Command::new(&self.ffmpeg).arg("-version").output()?;
        Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string())
    }

    /// Whether this ffmpeg has a filter (drawtext needs libfreetype, for example).
    pub fn has_filter(&self, name: &str) -> bool {
        Command::new(&self.ffmpeg)
            .args(["-hide_banner", "-filters"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.split_whitespace().nth(1) == Some(name))
            })
            .unwrap_or(false)
    }

    pub fn command(&self) -> FfmpegCommand {
        let mut c = FfmpegCommand::new_with_path(&self.ffmpeg);
        c.hide_banner().arg("-nostdin").overwrite();
        c
    }

    /// Run ffmpeg to completion for what it prints (an analysis filter's report):
    /// returns its log (stderr).
    pub fn run_for_log(&self, what: &str, args: &[OsString]) -> Result<String, MediaError> {
        let started = std::time::Instant::now();
        let out = Command::new(&self.ffmpeg).args(["-hide_banner", "-nostdin"]).args(args).output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                MediaError::FfmpegMissing
            } else {
                e.into()
            }
        })?;
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        tracing::debug!(what, seconds = started.elapsed().as_secs_f64(), "ffmpeg run");
        if !out.status.success() {
            return Err(MediaError::Failed { what: what.into(), message: crate::text::last_lines(&log, 3) });
        }
        Ok(log)
    }

    /// Run ffmpeg to completion. `total_frames` turns frame counts into 0..1 progress.
    pub fn run(
        &self,
        what: &str,
        args: &[OsString],
        total_frames: Option<u64>,
        cancel: Option<&AtomicBool>,
        progress: impl FnMut(f32),
    ) -> Result<(), MediaError> {
        let mut cmd = self.command();
        cmd.args(args);
        Self::run_command(what, cmd, total_frames, cancel, progress)
    }

    /// `run`, with pipes' read ends given to ffmpeg as `pipe:3`, `pipe:4`, … in order (for
    /// inputs that are made while it runs). The parent's copies are closed once ffmpeg
    /// has them, so their writers see a broken pipe when it ends.
    pub fn run_fed(
        &self,
        what: &str,
        args: &[OsString],
        fed: Vec<std::os::fd::OwnedFd>,
        total_frames: Option<u64>,
        cancel: Option<&AtomicBool>,
        progress: impl FnMut(f32),
    ) -> Result<(), MediaError> {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let mut cmd = self.command();
        cmd.args(args);
        let fds: Vec<i32> = fed.iter().map(|f| f.as_raw_fd()).collect();
        // SAFETY: between fork and exec only fcntl and dup2 run (async-signal-safe), on
        // descriptors this process owns. Each is first copied above any target, so moving
        // one to its place never closes another still to be moved.
        unsafe {
            cmd.as_inner_mut().pre_exec(move || {
                let mut high = Vec::with_capacity(fds.len());
                for &fd in &fds {
                    let h = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, FIRST_FED_FD + 1000);
                    if h < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    high.push(h);
                }
                for (i, &h) in high.iter().enumerate() {
                    if libc::dup2(h, FIRST_FED_FD + i as i32) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let result = Self::run_command(what, cmd, total_frames, cancel, progress);
        drop(fed);
        result
    }

    fn run_command(what: &str, mut cmd: FfmpegCommand, total_frames: Option<u64>, cancel: Option<&AtomicBool>, mut progress: impl FnMut(f32)) -> Result<(), MediaError> {
        let started = std::time::Instant::now();
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                MediaError::FfmpegMissing
            } else {
                MediaError::Io(e)
            }
        })?;
        let mut errors = Vec::new();
        let iter = child.iter().map_err(|e| MediaError::Failed { what: what.into(), message: e.to_string() })?;
        for ev in iter {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(MediaError::Cancelled);
            }
            match ev {
                FfmpegEvent::Progress(p) => {
                    if let Some(total) = total_frames.filter(|t| *t > 0) {
                        progress((p.frame as f32 / total as f32).min(1.0));
                    }
                }
                FfmpegEvent::Log(LogLevel::Error | LogLevel::Fatal, msg) => errors.push(msg),
                FfmpegEvent::Error(msg) => errors.push(msg),
                _ => {}
            }
        }
        let status = child.wait()?;
        tracing::debug!(what, seconds = started.elapsed().as_secs_f64(), "ffmpeg run");
        if !status.success() {
            let tail: Vec<_> = errors.iter().rev().take(4).rev().cloned().collect();
            return Err(MediaError::Failed {
                what: what.into(),
                message: if tail.is_empty() { format!("exit status {status}") } else { tail.join(" | ") },
            });
        }
        progress(1.0);
        Ok(())
    }

    pub fn probe(&self, path: &Path) -> Result<Probe, MediaError> {
        let out = Command::new(&self.ffprobe)
            .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
            .arg(path)
            .output()
            .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { MediaError::FfprobeMissing } else { e.into() })?;
        let bad = |m: String| MediaError::BadMedia { path: path.display().to_string(), message: m };
        if !out.status.success() {
            return Err(bad(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| bad(e.to_string()))?;
        let streams = v["streams"].as_array().cloned().unwrap_or_default();
        let video = streams.iter().find(|s| s["codec_type"] == "video");
        let num = |s: &serde_json::Value| s.as_str().and_then(|x| x.parse::<f64>().ok());
        let rate = |s: &str| {
            let mut it = s.split('/');
            match (it.next().and_then(|a| a.parse::<f64>().ok()), it.next().and_then(|b| b.parse::<f64>().ok())) {
                (Some(a), Some(b)) if b > 0.0 => a / b,
                (Some(a), None) => a,
                _ => 0.0,
            }
        };
        Ok(Probe {
            duration_s: num(&v["format"]["duration"]).or_else(|| video.and_then(|s| num(&s["duration"]))).unwrap_or(0.0),
            width: video.and_then(|s| s["width"].as_u64()).unwrap_or(0) as u32,
            height: video.and_then(|s| s["height"].as_u64()).unwrap_or(0) as u32,
            fps: video.and_then(|s| s["avg_frame_rate"].as_str()).map(rate).unwrap_or(0.0),
            video_codec: video.and_then(|s| s["codec_name"].as_str()).unwrap_or("").to_string(),
            pix_fmt: video.and_then(|s| s["pix_fmt"].as_str()).unwrap_or("").to_string(),
            has_audio: streams.iter().any(|s| s["codec_type"] == "audio"),
            audio_channels: streams.iter().find(|s| s["codec_type"] == "audio").and_then(|s| s["channels"].as_u64()).unwrap_or(0) as u32,
        })
    }
}
