//! Grading decoded video with a 3D LUT, at the cost of a table lookup per pixel.
//!
//! A clip reaches compose as 8-bit YUV 4:2:0, so every colour in it is one of 2²⁴
//! (Y, Cb, Cr) triples: the grade of each is computed once (YUV → RGB, the cube, RGB →
//! YUV) and then looked up, never interpolated per pixel. The table is filled a chroma
//! pair at a time, when a frame first shows it (a clip shows a few thousand of the
//! 65,536): a row holds the graded Y of every luma for that pair, and the graded Cb and
//! Cr for every (2x2-mean) luma. ffmpeg's `lut3d` converts every pixel to float RGB and
//! interpolates; this does the same arithmetic once per colour, which is what made a
//! look cost half a bare encode there and a few percent here (`make bench`).
//!
//! The colour matrix is `yuv.rs`'s (BT.601 at limited range, what ffmpeg assumes for the
//! untagged clips admint makes), so the look reads exactly as `lut3d` graded it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};

use super::yuv::{to_rgb, to_yuv};
use super::{Cube, Ffmpeg, MediaError};

/// Bytes of one row: the graded Y, Cb and Cr for each of 256 lumas.
const ROW: usize = 3 * 256;

/// A cube as a lazily filled YUV → YUV table.
pub struct YuvGrade {
    cube: Cube,
    /// By chroma pair (`Cb << 8 | Cr`), `ROW` bytes each: the graded Y, Cb and Cr for
    /// each luma. 48 MiB of zeroes asked of the allocator as such, so only the rows
    /// written are ever committed (a few MiB).
    table: Vec<u8>,
    filled: Vec<bool>,
}

impl YuvGrade {
    pub fn new(cube: Cube) -> YuvGrade {
        // Zeroed memory is only committed where rows are written.
        YuvGrade { cube, table: vec![0; 65_536 * ROW], filled: vec![false; 65_536] }
    }

    /// One colour graded: what the cube makes of it. A YUV colour outside RGB's cube
    /// (4:2:0 makes them at sharp colour edges, where a pixel's luma meets its block's
    /// chroma) is graded at the nearest colour inside and keeps its excess, so the grade
    /// adds no fringes there, and the identity cube changes no colour at all.
    pub fn grade(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let rgb = to_rgb(y, cb, cr);
        let inside = rgb.map(|x| x.clamp(0.0, 1.0));
        let graded = self.cube.apply(inside);
        to_yuv([0, 1, 2].map(|c| graded[c] + rgb[c] - inside[c]))
    }

    fn fill(&mut self, pair: usize) {
        let (cb, cr) = ((pair >> 8) as u8, pair as u8);
        let mut row = [0u8; ROW];
        for y in 0..=255u8 {
            let [gy, gcb, gcr] = self.grade(y, cb, cr);
            let y = usize::from(y);
            (row[y], row[256 + y], row[512 + y]) = (gy, gcb, gcr);
        }
        self.table[pair * ROW..(pair + 1) * ROW].copy_from_slice(&row);
        self.filled[pair] = true;
    }

    /// Grade one yuv420p frame in place (`width` and `height` even).
    pub fn frame(&mut self, frame: &mut [u8], width: usize, height: usize) {
        let (luma, chroma) = frame.split_at_mut(width * height);
        let (cbs, crs) = chroma.split_at_mut(width * height / 4);
        let pair = |cb: u8, cr: u8| usize::from(cb) << 8 | usize::from(cr);
        // First the colours this frame shows for the first time, then the lookups (a
        // check inside the loop below makes it half as fast).
        for (&cb, &cr) in cbs.iter().zip(crs.iter()) {
            if !self.filled[pair(cb, cr)] {
                self.fill(pair(cb, cr));
            }
        }
        let (table, _) = self.table.as_chunks::<ROW>();
        let cw = width / 2;
        for ((rows, cb_line), cr_line) in luma.chunks_exact_mut(2 * width).zip(cbs.chunks_exact_mut(cw)).zip(crs.chunks_exact_mut(cw)) {
            let (top, bottom) = rows.split_at_mut(width);
            for (((t, b), cb), cr) in top.chunks_exact_mut(2).zip(bottom.chunks_exact_mut(2)).zip(cb_line.iter_mut()).zip(cr_line.iter_mut()) {
                let row = &table[pair(*cb, *cr)];
                let mean = ((u16::from(t[0]) + u16::from(t[1]) + u16::from(b[0]) + u16::from(b[1]) + 2) >> 2) as u8;
                (t[0], t[1]) = (row[usize::from(t[0])], row[usize::from(t[1])]);
                (b[0], b[1]) = (row[usize::from(b[0])], row[usize::from(b[1])]);
                (*cb, *cr) = (row[256 + usize::from(mean)], row[512 + usize::from(mean)]);
            }
        }
    }
}

/// Decode `clip` through `filter` (which must make `width` x `height` yuv420p), grade
/// every frame and write it raw to `out`, until the clip ends. The reader going away
/// ends it quietly (the composing ffmpeg stopped or failed and says why itself).
pub fn feed_graded(ff: &Ffmpeg, clip: &Path, filter: &str, (width, height): (u32, u32), grade: &mut YuvGrade, mut out: impl Write, cancel: Option<&AtomicBool>) -> Result<(), MediaError> {
    let failed = |m: String| MediaError::Failed { what: "grade".into(), message: format!("{}: {m}", clip.display()) };
    let mut child = std::process::Command::new(&ff.ffmpeg)
        .args(["-hide_banner", "-nostdin", "-v", "error", "-threads", "1", "-i"])
        .arg(clip)
        .args(["-vf", filter, "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { MediaError::FfmpegMissing } else { e.into() })?;
    let mut stdout = child.stdout.take().ok_or_else(|| failed("no output".into()))?;
    widen_pipe(std::os::fd::AsRawFd::as_raw_fd(&stdout));
    let mut stderr = child.stderr.take().ok_or_else(|| failed("no log".into()))?;
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (w, h) = (width as usize, height as usize);
    let mut frame = vec![0u8; w * h * 3 / 2];
    let mut reader_gone = false;
    let (started, mut grading) = (std::time::Instant::now(), std::time::Duration::ZERO);
    let result = loop {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            break Err(MediaError::Cancelled);
        }
        match read_full(&mut stdout, &mut frame) {
            Ok(false) => break Ok(()),
            Ok(true) => {}
            Err(e) => break Err(e.into()),
        }
        let t = std::time::Instant::now();
        grade.frame(&mut frame, w, h);
        grading += t.elapsed();
        if let Err(e) = out.write_all(&frame) {
            reader_gone = e.kind() == std::io::ErrorKind::BrokenPipe;
            break if reader_gone { Ok(()) } else { Err(e.into()) };
        }
    };
    drop(out);
    tracing::debug!(clip = %clip.display(), seconds = started.elapsed().as_secs_f64(), grading_s = grading.as_secs_f64(), colours = grade.filled.iter().filter(|f| **f).count(), "graded");
    if result.is_err() || reader_gone {
        let _ = child.kill();
    }
    let status = child.wait()?;
    let log = log.join().unwrap_or_default();
    result?;
    if !status.success() && !reader_gone {
        return Err(failed(crate::text::last_lines(&log, 3)));
    }
    Ok(())
}

/// Give a pipe a 1 MiB buffer (Linux's default ceiling for users; 64 KiB otherwise): a
/// 1080p frame then crosses in three writes, not fifty. Best effort.
pub fn widen_pipe(fd: std::os::fd::RawFd) {
    // SAFETY: F_SETPIPE_SZ only resizes the buffer of a pipe this process holds.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// Fill `buf` from `r`: `false` at a clean end before the first byte.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the decoder stopped inside a frame")),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::look_formula;

    #[test]
    fn the_identity_moves_no_colour_inside_rgb_and_a_look_matches_the_cube() {
        let identity = YuvGrade::new(Cube::from_fn("id", 17, |c| c));
        // Every colour comes back as it was, those outside RGB's cube too.
        for y in (0..=255u8).step_by(3) {
            for cb in (0..=255u8).step_by(5) {
                for cr in (0..=255u8).step_by(5) {
                    let g = identity.grade(y, cb, cr);
                    assert!(g.iter().zip([y, cb, cr]).all(|(a, b)| a.abs_diff(b) <= 1), "{y},{cb},{cr} -> {g:?}");
                }
            }
        }
        // A look: the table holds what the cube's formula makes of the colour.
        let warm = look_formula("warm").unwrap();
        let grade = YuvGrade::new(Cube::from_fn("warm", 33, warm));
        let rgb = to_rgb(120, 110, 150);
        let want = to_yuv(warm(rgb));
        let got = grade.grade(120, 110, 150);
        assert!(got.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 2), "{got:?} vs {want:?}");
    }

    #[test]
    fn a_frame_is_graded_pixel_by_pixel_through_the_table() {
        // An inverting cube negates RGB: white becomes black, and a 4x2 frame's luma
        // follows each pixel while its chroma follows each 2x2 block.
        let mut g = YuvGrade::new(Cube::from_fn("invert", 2, |c| c.map(|x| 1.0 - x)));
        let (w, h) = (4, 2);
        let mut frame = vec![235, 235, 16, 16, 235, 235, 16, 16, 128, 128, 128, 128];
        g.frame(&mut frame, w, h);
        assert_eq!(&frame[..8], &[16, 16, 235, 235, 16, 16, 235, 235]);
        assert_eq!(&frame[8..], &[128, 128, 128, 128], "grey stays grey");
        // The rows filled are the two chroma pairs seen, no more.
        assert_eq!(g.filled.iter().filter(|f| **f).count(), 1);
    }
}
