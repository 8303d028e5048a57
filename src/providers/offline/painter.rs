//! The offline painter: reference images and keyframes drawn with ffmpeg in the brand
//! palette, or built around the user's own product image / logo.

use async_trait::async_trait;

use crate::domain::ReferenceKind;
use crate::media::{paint_card, Ffmpeg, Motif, PaintSpec};
use crate::providers::{ImagePurpose, ImageRequest, JobCtx, MediaModel, MediaRef, Produced, ProviderError, Submitted};

#[derive(Debug, Clone)]
pub struct CardPainter {
    pub ffmpeg: Ffmpeg,
    pub font: String,
}

const DEFAULT_PALETTE: [&str; 3] = ["#2b2d42", "#8d99ae", "#ef233c"];

#[async_trait]
impl MediaModel<ImageRequest> for CardPainter {
    fn id(&self) -> String {
        "offline/card-painter".into()
    }

    async fn submit(&self, req: &ImageRequest, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        let mut colors: Vec<String> = req.palette.clone();
        for d in DEFAULT_PALETTE {
            if colors.len() >= 3 {
                break;
            }
            colors.push(d.to_string());
        }
        let motif = match &req.purpose {
            ImagePurpose::Reference { reference: ReferenceKind::Product } => Motif::Product,
            ImagePurpose::Reference { reference: ReferenceKind::Character } => Motif::Character,
            ImagePurpose::Reference { reference: ReferenceKind::Environment } => Motif::Environment,
            ImagePurpose::Keyframe { .. } => match req.seed % 3 {
                0 => Motif::Environment,
                1 => Motif::Product,
                _ => Motif::Character,
            },
        };
        // Keyframes of a product advert always show the product (the user's photo when given).
        let (motif, image) = match (&req.purpose, req.init_images.first()) {
            (ImagePurpose::Keyframe { .. }, Some(img)) => (Motif::Product, Some(img.clone())),
            (ImagePurpose::Reference { reference: ReferenceKind::Product }, Some(img)) => (Motif::Product, Some(img.clone())),
            (ImagePurpose::Reference { reference: ReferenceKind::Character }, Some(img)) => (Motif::Character, Some(img.clone())),
            _ => (motif, None),
        };
        let title = if motif == Motif::Product && image.is_none() { req.title.clone() } else { None };
        let spec = PaintSpec {
            width: req.width,
            height: req.height,
            colors,
            seed: req.seed,
            motif,
            title,
            image,
            font: self.font.clone(),
        };
        let out = ctx.work_dir.join(format!("paint-{}.png", uuid::Uuid::new_v4().simple()));
        let ff = self.ffmpeg.clone();
        let work = ctx.work_dir.clone();
        let out2 = out.clone();
        tokio::task::spawn_blocking(move || paint_card(&ff, &spec, &work, &out2))
            .await
            .map_err(|e| ProviderError::Protocol(e.to_string()))??;
        (ctx.progress)(1.0);
        Ok(Submitted::Done(Produced::new(MediaRef::Local(out))))
    }


}
