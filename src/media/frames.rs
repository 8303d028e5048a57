//! Streams a video's frames (rgb24, every decoded frame exactly once) or its audio
//! (f32 PCM) out of ffmpeg, a bounded number of buffers at a time, so memory stays flat
//! however long the video is.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::{Ffmpeg, MediaError, Probe};
use crate::text::last_lines;

/// Buffers in flight between the decoder and the consumer.
const IN_FLIGHT: usize = 3;

/// One decoded rgb24 frame, `width * height * 3` bytes.
pub struct RgbFrame {
    pub index: u64,
    pub data: Vec<u8>,
}

/// Frames of one video, decoded by ffmpeg on its own process and read on a helper
/// thread while the caller works on the previous frame.
pub struct FrameStream {
    pub width: usize,
    pub height: usize,
    pub fps: f64,
    frames: Receiver<Result<RgbFrame, String>>,
    recycle: SyncSender<Vec<u8>>,
    reader: Option<JoinHandle<()>>,
}

fn spawn(ff: &Ffmpeg, args: &[&str], input: &Path, tail: &[&str]) -> Result<(Child, ChildStdout), MediaError> {
    let mut child = Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-nostdin"])
        .args(args)
        .arg("-i")
        .arg(input)
        .args(tail)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { MediaError::FfmpegMissing } else { e.into() })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    grow_pipe(&stdout);
    Ok((child, stdout))
}

/// Fewer, larger reads: a 1 MiB pipe instead of Linux's default 64 KiB.
fn grow_pipe(stdout: &ChildStdout) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: F_SETPIPE_SZ on a pipe fd we own; failure only leaves the default size.
        unsafe {
            libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stdout;
}

/// Wait for ffmpeg and turn a failure into its last stderr lines.
fn finish(mut child: Child, what: &str, path: &Path) -> Result<(), String> {
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        return Ok(());
    }
    let tail = last_lines(&err, 3);
    Err(format!("ffmpeg could not decode the {what} of {}: {}", path.display(), if tail.is_empty() { status.to_string() } else { tail }))
}

/// Read exactly `buf.len()` bytes; `Ok(false)` at a clean end of stream.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<bool, String> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(format!("stream ended inside a frame ({got} of {} bytes)", buf.len())),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(true)
}

impl FrameStream {
    /// Start decoding `path`'s first video stream.
    pub fn open(ff: &Ffmpeg, path: &Path, probe: &Probe) -> Result<FrameStream, MediaError> {
        if probe.width == 0 || probe.height == 0 {
            return Err(MediaError::BadMedia { path: path.display().to_string(), message: "no video stream".into() });
        }
        let (width, height) = (probe.width as usize, probe.height as usize);
        let (child, mut stdout) =
            spawn(ff, &[], path, &["-map", "0:v:0", "-fps_mode", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"])?;
        let (tx, frames) = sync_channel::<Result<RgbFrame, String>>(IN_FLIGHT);
        let (recycle, spare) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
        let size = width * height * 3;
        let path = path.to_path_buf();
        let reader = std::thread::spawn(move || {
            let mut index = 0u64;
            loop {
                let mut data = spare.try_recv().unwrap_or_else(|_| vec![0u8; size]);
                match read_full(&mut stdout, &mut data) {
                    Ok(true) => {
                        if tx.send(Ok(RgbFrame { index, data })).is_err() {
                            break; // the consumer stopped early
                        }
                        index += 1;
                    }
                    Ok(false) => {
                        drop(stdout);
                        if let Err(e) = finish(child, "video", &path) {
                            let _ = tx.send(Err(e));
                        }
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        });
        Ok(FrameStream { width, height, fps: probe.fps, frames, recycle, reader: Some(reader) })
    }

    /// The next frame, `None` after the last one.
    pub fn next_frame(&mut self) -> Option<Result<RgbFrame, String>> {
        self.frames.recv().ok()
    }

    /// Hand a frame's buffer back for reuse.
    pub fn recycle(&self, frame: RgbFrame) {
        let _ = self.recycle.try_send(frame.data);
    }
}

impl Drop for FrameStream {
    fn drop(&mut self) {
        // Unblock the reader: drain what it sent, then let it see the closed channel.
        while self.frames.try_recv().is_ok() {}
        let (_tx, rx) = sync_channel(0);
        let frames = std::mem::replace(&mut self.frames, rx);
        drop(frames);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}

/// A file's first audio stream, mixed down to mono f32 at `rate` Hz, whole (for a music
/// track's analysis: a minute at 11 kHz is 2.6 MB).
pub fn mono_audio(ff: &Ffmpeg, path: &Path, rate: u32) -> Result<Vec<f32>, MediaError> {
    let rate_s = rate.to_string();
    let (child, mut stdout) = spawn(ff, &[], path, &["-map", "0:a:0", "-ac", "1", "-ar", &rate_s, "-f", "f32le", "-acodec", "pcm_f32le", "-"])?;
    let mut bytes = Vec::new();
    stdout.read_to_end(&mut bytes)?;
    drop(stdout);
    finish(child, "audio", path).map_err(|m| MediaError::BadMedia { path: path.display().to_string(), message: m })?;
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// A file's audio, decoded to interleaved f32 at `rate` Hz, handed over in chunks.
/// Channel count is kept (loudness weights channels, so no downmix). Returns the
/// channel count, or `None` when the file has no audio.
pub fn for_each_audio_chunk(
    ff: &Ffmpeg,
    path: &Path,
    channels: u32,
    rate: u32,
    mut f: impl FnMut(&[f32]),
) -> Result<(), MediaError> {
    let rate_s = rate.to_string();
    let (child, mut stdout) = spawn(ff, &[], path, &["-map", "0:a:0", "-ar", &rate_s, "-f", "f32le", "-acodec", "pcm_f32le", "-"])?;
    let frame = 4 * channels.max(1) as usize;
    let mut buf = vec![0u8; frame * 4800];
    let mut samples: Vec<f32> = Vec::with_capacity(buf.len() / 4);
    let mut carry = 0usize;
    loop {
        let n = match stdout.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let have = carry + n;
        let whole = have - have % frame;
        samples.clear();
        samples.extend(buf[..whole].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        if !samples.is_empty() {
            f(&samples);
        }
        buf.copy_within(whole..have, 0);
        carry = have - whole;
        if n == 0 {
            break;
        }
    }
    drop(stdout);
    finish(child, "audio", path).map_err(|m| MediaError::BadMedia { path: path.display().to_string(), message: m })
}

/// Small frames of a video, `fps` a second, scaled to cover `width` x `height` and cropped
/// to it as the final cut does, whole (rgb24; for measuring what is behind text, and the
/// animatic player). Decoded the cheap way — frames no other frame refers to are skipped,
/// and so is the deblocking filter — which halves the work and changes nothing a
/// picture this small shows.
pub fn thumbnails(ff: &Ffmpeg, path: &Path, width: u32, height: u32, fps: f64) -> Result<Vec<Vec<u8>>, MediaError> {
    let vf = format!("fps={fps},scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height}");
    let (child, mut stdout) = spawn(ff, &["-skip_frame", "noref", "-skip_loop_filter", "all"], path, &["-map", "0:v:0", "-vf", &vf, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"])?;
    let mut bytes = Vec::new();
    stdout.read_to_end(&mut bytes)?;
    drop(stdout);
    finish(child, "video", path).map_err(|m| MediaError::BadMedia { path: path.display().to_string(), message: m })?;
    Ok(bytes.chunks_exact(width as usize * height as usize * 3).map(<[u8]>::to_vec).collect())
}
