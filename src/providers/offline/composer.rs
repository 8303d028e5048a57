//! The offline composer: a music bed made by `media::music` from the brief's tone, exactly
//! the advert's length, royalty-free and deterministic per seed.

use async_trait::async_trait;

use crate::media::{compose_bed, write_wav, Mood, MusicSpec};
use crate::providers::{Composed, JobCtx, MediaRef, MusicModel, MusicRequest, Produced, ProviderError};

#[derive(Debug, Clone, Default)]
pub struct OfflineComposer;

#[async_trait]
impl MusicModel for OfflineComposer {
    fn id(&self) -> String {
        "offline/composer".into()
    }

    async fn compose(&self, req: &MusicRequest, ctx: &JobCtx) -> Result<Composed, ProviderError> {
        let mood = Mood::for_tone(&req.tone);
        let spec = MusicSpec { mood, total_s: req.duration_s, cadence_s: req.cadence_s, seed: req.seed };
        let out = ctx.work_dir.join(format!("music-{}.wav", uuid::Uuid::new_v4().simple()));
        let path = out.clone();
        let progress = ctx.progress.clone();
        let bpm = tokio::task::spawn_blocking(move || {
            progress(0.1);
            let bed = compose_bed(&spec);
            write_wav(&bed, &path).map(|_| bed.bpm)
        })
        .await
        .map_err(|e| ProviderError::Protocol(e.to_string()))??;
        Ok(Composed { produced: Produced::new(MediaRef::Local(out)), bpm: Some(bpm), mood: mood.id().into() })
    }
}
