//! Images as text: each cell is `▀` with the upper pixel as foreground and the lower as
//! background. Text scrolls with the chat, sits inside popups and never tears; it works
//! in every terminal with colour (graphics protocols are for the large preview).

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

/// `img` as `cols` cells wide, as many rows as its aspect asks (at least one).
pub fn thumbnail(img: &image::RgbImage, cols: u32) -> Vec<Line<'static>> {
    let rows2 = ((cols as f64 * img.height() as f64 / img.width().max(1) as f64).round() as u32).max(2) & !1;
    lines(&image::imageops::thumbnail(img, cols.max(1), rows2))
}

/// `img` fitted inside `cols` x `rows` cells, its aspect kept (a cell is two square
/// pixels stacked).
pub fn fit(img: &image::RgbImage, cols: u16, rows: u16) -> Vec<Line<'static>> {
    let (w, h) = (img.width().max(1) as f64, img.height().max(1) as f64);
    let s = (cols as f64 / w).min(2.0 * rows as f64 / h);
    let (c, r2) = (((w * s).floor() as u32).max(1), (((h * s).floor() as u32).max(2)) & !1);
    lines(&image::imageops::thumbnail(img, c, r2))
}

fn lines(small: &image::RgbImage) -> Vec<Line<'static>> {
    let (w, h) = small.dimensions();
    (0..h / 2)
        .map(|r| {
            Line::from(
                (0..w)
                    .map(|x| {
                        let top = small.get_pixel(x, 2 * r);
                        let bot = small.get_pixel(x, (2 * r + 1).min(h - 1));
                        Span::styled("▀", Style::default().fg(Color::Rgb(top[0], top[1], top[2])).bg(Color::Rgb(bot[0], bot[1], bot[2])))
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_keeps_the_aspect_inside_the_box() {
        let wide = image::RgbImage::from_pixel(160, 90, image::Rgb([200, 10, 10]));
        let l = fit(&wide, 40, 40);
        assert_eq!(l.len(), 11, "40 columns of 16:9 are 22.5 pixel rows: 11 cells");
        assert!(l.iter().all(|line| line.spans.len() == 40));
        let tall = image::RgbImage::from_pixel(90, 160, image::Rgb([10, 200, 10]));
        let l = fit(&tall, 40, 10);
        assert_eq!(l.len(), 10, "height-bound");
        assert_eq!(l[0].spans.len(), 11, "20 pixels tall, 9:16 → 11 wide");
        assert_eq!(l[0].spans[0].style.fg, Some(Color::Rgb(10, 200, 10)));
    }
}
