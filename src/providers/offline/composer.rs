//! The offline composer: a music bed made by `media::music` from the brief's tone, exactly
//! the advert's length, royalty-free and deterministic per seed.

use async_trait::async_trait;

use crate::media::{compose_bed, write_wav, Mood, MusicSpec};
use crate::providers::{JobCtx, MediaModel, MediaRef, MusicRequest, Produced, ProviderError, Submitted};

/// The composer's id (its beds have a known tempo: cut-on-the-beat may use it).
pub const OFFLINE_COMPOSER: &str = "offline/composer";

#[derive(Debug, Clone, Default)]
pub struct OfflineComposer;

#[async_trait]
impl MediaModel<MusicRequest> for OfflineComposer {
    fn id(&self) -> String {
        OFFLINE_COMPOSER.into()
    }

    async fn submit(&self, req: &MusicRequest, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        let mood = Mood::for_tone(&req.tone);
        let spec = MusicSpec { mood, total_s: req.duration_s, cadence_s: req.cadence_s, seed: req.seed };
        let out = ctx.work_dir.join(format!("music-{}.wav", uuid::Uuid::new_v4().simple()));
        let path = out.clone();
        let progress = ctx.progress.clone();
        tokio::task::spawn_blocking(move || {
            progress(0.1);
            write_wav(&compose_bed(&spec), &path)
        })
        .await
        .map_err(|e| ProviderError::Protocol(e.to_string()))??;
        Ok(Submitted::Done(Produced::new(MediaRef::Local(out))))
    }
}
