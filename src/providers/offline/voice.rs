//! The offline voice: ffmpeg's flite speech synthesiser (robotic, but real and local).

use async_trait::async_trait;
use std::ffi::OsString;

use crate::media::{escape_filter_value, Ffmpeg};
use crate::providers::{JobCtx, MediaRef, Produced, ProviderError, SpeechModel, SpeechRequest};

#[derive(Debug, Clone)]
pub struct FliteVoice {
    pub ffmpeg: Ffmpeg,
}

#[async_trait]
impl SpeechModel for FliteVoice {
    fn id(&self) -> String {
        "offline/flite".into()
    }

    async fn speak(&self, req: &SpeechRequest, ctx: &JobCtx) -> Result<Produced, ProviderError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let text = ctx.work_dir.join(format!("vo-{id}.txt"));
        let out = ctx.work_dir.join(format!("vo-{id}.wav"));
        std::fs::write(&text, &req.text)?;
        let voice = if req.voice.is_empty() { "slt".to_string() } else { req.voice.clone() };
        let src = format!("flite=textfile={}:voice={}", escape_filter_value(&text.display().to_string()), escape_filter_value(&voice));
        let args: Vec<OsString> = vec!["-f".into(), "lavfi".into(), "-i".into(), src.into(), out.as_os_str().to_owned()];
        let ff = self.ffmpeg.clone();
        tokio::task::spawn_blocking(move || ff.run("voiceover", &args, None, None, |_| {}))
            .await
            .map_err(|e| ProviderError::Protocol(e.to_string()))??;
        let _ = std::fs::remove_file(&text);
        Ok(Produced::new(MediaRef::Local(out)))
    }
}
