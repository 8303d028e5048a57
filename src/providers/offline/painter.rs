//! The offline designer: reference images and keyframes as motion-design stills (palette
//! gradients and shapes, display type, the user's product photo cut out as the hero), each
//! recording its layers so the offline animator can move them apart (`media::Design`).

use async_trait::async_trait;

use crate::domain::ReferenceKind;
use crate::media::{display_font, Arrangement, Design};
use crate::providers::{ImagePurpose, ImageRequest, JobCtx, MediaModel, MediaRef, Produced, ProviderError, Submitted};

#[derive(Debug, Clone)]
pub struct Designer {
    /// The configured font file (empty: fontconfig's bold sans).
    pub font: String,
}

const DEFAULT_PALETTE: [&str; 3] = ["#2b2d42", "#8d99ae", "#ef233c"];

/// How a keyframe is arranged, as a designer reads the shot list: a packshot is spotlit,
/// a close-up or detail runs the name in rows, a wide or hero shot stacks it beside the
/// product; other shots take turns by scene, so neighbours differ. A new take (a new seed)
/// moves a turn-taking scene on by one.
fn keyframe_arrangement(prompt: &str, scene_id: u32, seed: u64) -> Arrangement {
    let p = prompt.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| p.contains(w));
    if has(&["packshot", "pack shot", "end card", "logo"]) {
        Arrangement::Spotlight
    } else if has(&["macro", "close-up", "close up", "detail", "texture"]) {
        Arrangement::Marquee
    } else if has(&["wide", "hero", "reveal", "establishing"]) {
        Arrangement::Stack
    } else {
        [Arrangement::Stack, Arrangement::Marquee, Arrangement::Spotlight][((scene_id as u64 + seed % 2) % 3) as usize]
    }
}

/// What a still shows, from what it is for and its seed.
fn design(req: &ImageRequest, font: &str) -> Design {
    let mut palette: Vec<String> = req.palette.clone();
    for d in DEFAULT_PALETTE {
        if palette.len() >= 3 {
            break;
        }
        palette.push(d.to_string());
    }
    let product = req.init_images.first().cloned();
    let (arrangement, hero) = match &req.purpose {
        ImagePurpose::Reference { reference: ReferenceKind::Product } => (Arrangement::Spotlight, product),
        ImagePurpose::Reference { reference: ReferenceKind::Character } => (Arrangement::Figures, None),
        ImagePurpose::Reference { reference: ReferenceKind::Environment } => (Arrangement::Horizon, None),
        // Keyframes follow the shot (the product photo, when there is one, is always the hero).
        ImagePurpose::Keyframe { scene_id } => (keyframe_arrangement(&req.prompt, *scene_id, req.seed), product),
    };
    Design {
        width: req.width,
        height: req.height,
        seed: req.seed,
        palette,
        arrangement,
        // Mostly deep backdrops with light type; now and then the other way round.
        dark: req.seed % 5 != 4,
        title: req.title.clone().unwrap_or_default(),
        hero,
        font: display_font(font, req.typeface.as_deref().unwrap_or_default()),
    }
}

#[async_trait]
impl MediaModel<ImageRequest> for Designer {
    fn id(&self) -> String {
        "offline/designer".into()
    }

    async fn submit(&self, req: &ImageRequest, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        let d = design(req, &self.font);
        let out = ctx.work_dir.join(format!("design-{}.png", uuid::Uuid::new_v4().simple()));
        let out2 = out.clone();
        tokio::task::spawn_blocking(move || d.paint(&out2)).await.map_err(|e| ProviderError::Protocol(e.to_string()))??;
        (ctx.progress)(1.0);
        Ok(Submitted::Done(Produced::new(MediaRef::Local(out))))
    }
}
