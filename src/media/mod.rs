//! ffmpeg work: locate and run the system ffmpeg (through ffmpeg-sidecar), probe files,
//! escape text for filter graphs, animate stills with sub-pixel camera moves, paint
//! images, and compose the final advert on one timeline (`timeline.rs`), graded with a
//! 3D LUT look (`lut.rs`).

mod align;
mod animate;
mod board;
mod captions;
mod compose;
mod design;
mod escape;
mod ffmpeg;
mod frames;
mod glyphs;
mod grade;
mod legibility;
mod lut;
mod music;
mod drawtext;
mod tempo;
mod timeline;
mod yuv;

pub use align::{align, silences};
pub use board::{best_fit, contact_sheet, palette_fit};
pub use animate::{animate_still, camera_window, AnimateSpec, Window};
pub use compose::{compose, overlay_boxes, render_stems, ComposeAudio, ComposeClip, ComposeSpec, EndCard, OverlayBox, VoiceLine};
pub use captions::{caption_cues, caption_layout, srt, vtt, CaptionCue};
pub use escape::escape_filter_value;
pub use ffmpeg::{Ffmpeg, Probe, FIRST_FED_FD};
pub use grade::{feed_graded, YuvGrade};
pub use tempo::{detect_beat, BeatGrid};
pub use frames::{for_each_audio_chunk, mono_audio, thumbnails, FrameStream, RgbFrame};
pub use legibility::{measure_behind, plate_alpha, plate_for, Behind, MIN_CONTRAST};
pub use lut::{look_formula, parse_cube, shipped_cube, Cube, SHIPPED_LOOKS};
pub use music::{bed_tempo, compose_bed, write_wav, Bed, Mood, MusicSpec};
pub use design::{display_font, text_font, Arrangement, Design, Face};
pub use glyphs::{leave_out_unprintable, undrawable};
pub use timeline::{Segment, SegmentKind, Timeline};


use thiserror::Error;

#[derive(Debug, Error)]
pub enum MediaError {
    #[error("ffmpeg not found: install it (apt install ffmpeg) or set ADMINT_FFMPEG to its path")]
    FfmpegMissing,
    #[error("ffprobe not found next to ffmpeg or on PATH: install ffmpeg's ffprobe or set ADMINT_FFPROBE")]
    FfprobeMissing,
    #[error("ffmpeg failed ({what}): {message}")]
    Failed { what: String, message: String },
    #[error("{path} is not a readable image: {message}")]
    BadImage { path: String, message: String },
    #[error("{path} is not a readable media file: {message}")]
    BadMedia { path: String, message: String },
    #[error("output check failed for {path}: {message}")]
    Verify { path: String, message: String },
    #[error("cancelled")]
    Cancelled,
    #[error("i/o: {}", crate::text::io_words(.0))]
    Io(#[from] std::io::Error),
}
