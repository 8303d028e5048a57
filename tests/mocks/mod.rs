#![allow(dead_code)]
//! Local servers that speak the providers' documented protocols (status codes, headers,
//! polling, errors), for the backend and pipeline tests.

pub mod client;
pub mod comfyui;
pub mod elevenlabs;
pub mod fal;
pub mod gemini;
pub mod openai;
pub mod replicate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use axum::Router;

/// Serve `app` on a free loopback port, on a runtime of its own (so a test can block,
/// or run the admint binary, while the mock answers). Returns the base URL.
pub fn serve(app: Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr: SocketAddr = listener.local_addr().unwrap();
            tx.send(addr).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// Small real media files the mocks hand out, made once by ffmpeg.
pub struct Fixtures {
    pub mp4: Vec<u8>,
    pub png: Vec<u8>,
    pub wav: Vec<u8>,
    /// Two seconds of speech-like audio as MP3 (a tone with a pause in the middle).
    pub mp3: Vec<u8>,
}

pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ff = admint::media::Ffmpeg::locate().expect("ffmpeg is required for the tests");
        let make = |args: &[&str], name: &str| -> Vec<u8> {
            let out: PathBuf = dir.path().join(name);
            let ok = Command::new(&ff.ffmpeg).args(["-v", "error", "-y"]).args(args).arg(&out).status().unwrap();
            assert!(ok.success(), "ffmpeg could not make {name}");
            std::fs::read(out).unwrap()
        };
        Fixtures {
            mp4: make(&["-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"], "clip.mp4"),
            png: make(&["-f", "lavfi", "-i", "testsrc2=s=400x240", "-frames:v", "1"], "still.png"),
            wav: make(&["-f", "lavfi", "-i", "sine=f=440:d=1", "-ac", "1"], "tone.wav"),
            mp3: make(&["-f", "lavfi", "-i", "sine=f=220:d=2", "-af", "volume='if(between(t,0.9,1.2),0,1)':eval=frame", "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k"], "speech.mp3"),
        }
    })
}

/// An MP3 of a voice-like tone `seconds` long (made by ffmpeg on demand).
pub fn mp3_of(seconds: f64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let ff = admint::media::Ffmpeg::locate().expect("ffmpeg is required for the tests");
    let out = dir.path().join("line.mp3");
    let src = format!("sine=f=220:d={seconds:.3}");
    let ok = Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-f", "lavfi", "-i", &src, "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k"]).arg(&out).status().unwrap();
    assert!(ok.success(), "ffmpeg could not make an mp3");
    std::fs::read(out).unwrap()
}
