//! The offline voices, robotic but real and local: ffmpeg's flite synthesiser (voices
//! `slt`, `kal`, `kal16`, `awb`, `rms`), or espeak-ng when it is installed
//! (`espeak:en-us`, `espeak:en-gb`, … any espeak-ng voice).

use async_trait::async_trait;
use std::ffi::OsString;

use crate::media::{escape_filter_value, Ffmpeg};
use crate::providers::{JobCtx, MediaRef, Produced, ProviderError, SpeechModel, SpeechRequest, Spoken};

/// flite's voices as ffmpeg's `flite` source names them.
pub const FLITE_VOICES: [&str; 5] = ["slt", "kal", "kal16", "awb", "rms"];

#[derive(Debug, Clone)]
pub struct FliteVoice {
    pub ffmpeg: Ffmpeg,
}

/// Which synthesiser a voice name asks for.
enum Engine<'a> {
    Flite(&'a str),
    Espeak(&'a str),
}

fn engine(voice: &str) -> Result<Engine<'_>, ProviderError> {
    let v = voice.trim();
    if v.is_empty() {
        return Ok(Engine::Flite("slt"));
    }
    if let Some(lang) = v.strip_prefix("espeak:") {
        return Ok(Engine::Espeak(if lang.is_empty() { "en-us" } else { lang }));
    }
    if FLITE_VOICES.contains(&v) {
        return Ok(Engine::Flite(v));
    }
    Err(ProviderError::InvalidRequest(format!(
        "the offline voice has no voice \"{v}\": use one of {} (flite), or espeak:LANG when espeak-ng is installed",
        FLITE_VOICES.join(", ")
    )))
}

#[async_trait]
impl SpeechModel for FliteVoice {
    fn id(&self) -> String {
        "offline/flite".into()
    }

    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<Spoken, ProviderError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let text = ctx.work_dir.join(format!("vo-{id}.txt"));
        let out = ctx.work_dir.join(format!("vo-{id}.wav"));
        std::fs::write(&text, &req.text)?;
        let result = match engine(&req.voice)? {
            Engine::Flite(voice) => {
                let src = format!("flite=textfile={}:voice={}", escape_filter_value(&text.display().to_string()), escape_filter_value(voice));
                let args: Vec<OsString> = vec!["-f".into(), "lavfi".into(), "-i".into(), src.into(), out.as_os_str().to_owned()];
                let ff = self.ffmpeg.clone();
                tokio::task::spawn_blocking(move || ff.run("voiceover", &args, None, None, |_| {}))
                    .await
                    .map_err(|e| ProviderError::Protocol(e.to_string()))?
                    .map_err(ProviderError::from)
            }
            Engine::Espeak(lang) => {
                // 160 words a minute is espeak-ng's own pace for adverts' 2.6 words a second.
                let status = tokio::process::Command::new("espeak-ng")
                    .args(["-v", lang, "-s", "160", "-w"])
                    .arg(&out)
                    .arg("-f")
                    .arg(&text)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .output()
                    .await
                    .map_err(|e| ProviderError::Config(format!("espeak-ng could not run ({e}): install it (apt install espeak-ng) or use a flite voice")))?;
                if status.status.success() {
                    Ok(())
                } else {
                    Err(ProviderError::InvalidRequest(format!("espeak-ng: {}", String::from_utf8_lossy(&status.stderr).trim())))
                }
            }
        };
        let _ = std::fs::remove_file(&text);
        result?;
        Ok(Spoken { produced: Produced::new(MediaRef::Local(out)), words: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_names_pick_an_engine_or_say_what_exists() {
        assert!(matches!(engine(""), Ok(Engine::Flite("slt"))));
        assert!(matches!(engine("kal"), Ok(Engine::Flite("kal"))));
        assert!(matches!(engine("espeak:en-gb"), Ok(Engine::Espeak("en-gb"))));
        let e = engine("alloy").err().unwrap().to_string();
        assert!(e.contains("slt") && e.contains("espeak"), "{e}");
    }
}
