//! Pixels for the designer: a float canvas with anti-aliased shapes and gradients, premultiplied
//! RGBA sprites, blur, and a bilinear sampler that places a sprite on a frame at any scale and
//! sub-pixel offset.

/// Linear-light is not worth its cost here: colours are mixed in sRGB like every design tool's
/// default blend mode. Channels are 0..1.
pub type Rgb = [f32; 3];

pub fn rgb8(c: [u8; 3]) -> Rgb {
    c.map(|v| v as f32 / 255.0)
}

pub fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

/// WCAG relative luminance of an sRGB colour.
pub fn luminance(c: Rgb) -> f32 {
    crate::domain::relative_luminance(c.map(f64::from)) as f32
}

/// Coverage of a pixel by a shape whose signed distance (negative inside, in pixels) is `d`:
/// a one-pixel ramp, which is what 4x supersampling would give for straight edges.
fn coverage(d: f32) -> f32 {
    (0.5 - d).clamp(0.0, 1.0)
}

/// An opaque RGB canvas in floats, drawn on with alpha.
#[derive(Clone)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    px: Vec<Rgb>,
}

impl Canvas {
    /// A linear gradient from `a` to `b` across the canvas at `angle` (radians).
    pub fn gradient(width: u32, height: u32, a: Rgb, b: Rgb, angle: f32) -> Canvas {
        let (dx, dy) = (angle.cos(), angle.sin());
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        let half = (cx * dx.abs() + cy * dy.abs()).max(1.0);
        let mut px = Vec::with_capacity(width as usize * height as usize);
        for y in 0..height {
            for x in 0..width {
                let p = ((x as f32 - cx) * dx + (y as f32 - cy) * dy) / half;
                let t = (p * 0.5 + 0.5).clamp(0.0, 1.0);
                // Smooth at both ends, like a designer's eased gradient.
                px.push(mix(a, b, t * t * (3.0 - 2.0 * t)));
            }
        }
        Canvas { width, height, px }
    }

    fn blend(&mut self, x: u32, y: u32, c: Rgb, a: f32) {
        if a <= 0.0 {
            return;
        }
        let p = &mut self.px[(y * self.width + x) as usize];
        *p = mix(*p, c, a.min(1.0));
    }

    /// Paint a shape given by its signed distance function over a bounding box.
    fn shape(&mut self, bbox: (f32, f32, f32, f32), c: Rgb, alpha: f32, sdf: impl Fn(f32, f32) -> f32) {
        let x0 = bbox.0.floor().max(0.0) as u32;
        let y0 = bbox.1.floor().max(0.0) as u32;
        let x1 = (bbox.2.ceil().max(0.0) as u32).min(self.width);
        let y1 = (bbox.3.ceil().max(0.0) as u32).min(self.height);
        for y in y0..y1 {
            for x in x0..x1 {
                let cov = coverage(sdf(x as f32 + 0.5, y as f32 + 0.5));
                self.blend(x, y, c, cov * alpha);
            }
        }
    }

    pub fn disc(&mut self, cx: f32, cy: f32, r: f32, c: Rgb, alpha: f32) {
        self.shape((cx - r - 1.0, cy - r - 1.0, cx + r + 1.0, cy + r + 1.0), c, alpha, |x, y| ((x - cx).hypot(y - cy)) - r);
    }

    pub fn ring(&mut self, cx: f32, cy: f32, r: f32, stroke: f32, c: Rgb, alpha: f32) {
        let o = r + stroke;
        self.shape((cx - o - 1.0, cy - o - 1.0, cx + o + 1.0, cy + o + 1.0), c, alpha, |x, y| ((x - cx).hypot(y - cy) - r).abs() - stroke / 2.0);
    }

    /// A soft glow: `c` at `alpha` in the middle, fading to nothing at radius `r`.
    pub fn glow(&mut self, cx: f32, cy: f32, r: f32, c: Rgb, alpha: f32) {
        self.shape((cx - r, cy - r, cx + r, cy + r), c, alpha, |x, y| {
            let t = ((x - cx).hypot(y - cy) / r).min(1.0);
            // Not a distance: a coverage of 1 - (1-t)^2 eased falloff, through `coverage`.
            let a = (1.0 - t) * (1.0 - t);
            0.5 - a
        });
    }

    /// A straight band of `width` through the point (`px`, `py`) at `angle`, across the canvas.
    pub fn band(&mut self, px: f32, py: f32, angle: f32, width: f32, c: Rgb, alpha: f32) {
        let (nx, ny) = (-angle.sin(), angle.cos());
        self.shape((0.0, 0.0, self.width as f32, self.height as f32), c, alpha, |x, y| ((x - px) * nx + (y - py) * ny).abs() - width / 2.0);
    }

    /// A grid of dots: `cols` x `rows` over the rectangle.
    #[allow(clippy::too_many_arguments)]
    pub fn dots(&mut self, rect: (f32, f32, f32, f32), cols: u32, rows: u32, r: f32, c: Rgb, alpha: f32) {
        for j in 0..rows {
            for i in 0..cols {
                let x = rect.0 + (rect.2 - rect.0) * (i as f32 + 0.5) / cols as f32;
                let y = rect.1 + (rect.3 - rect.1) * (j as f32 + 0.5) / rows as f32;
                self.disc(x, y, r, c, alpha);
            }
        }
    }

    /// 8-bit RGB with a little ordered dither, so x264 does not band the gradients.
    pub fn to_rgb8(&self) -> image::RgbImage {
        let mut out = image::RgbImage::new(self.width, self.height);
        for (i, (p, o)) in self.px.iter().zip(out.pixels_mut()).enumerate() {
            let (x, y) = (i as u32 % self.width, i as u32 / self.width);
            // 4x4 Bayer matrix, +-0.5 of a level.
            const BAYER: [f32; 16] = [0.0, 8.0, 2.0, 10.0, 12.0, 4.0, 14.0, 6.0, 3.0, 11.0, 1.0, 9.0, 15.0, 7.0, 13.0, 5.0];
            let d = (BAYER[((y % 4) * 4 + x % 4) as usize] + 0.5) / 16.0 - 0.5;
            o.0 = p.map(|v| (v * 255.0 + d).round().clamp(0.0, 255.0) as u8);
        }
        out
    }
}

/// A premultiplied RGBA image in floats: type, a cut-out product, a shadow.
#[derive(Clone, Debug, PartialEq)]
pub struct Sprite {
    pub width: u32,
    pub height: u32,
    pub px: Vec<[f32; 4]>,
}

impl Sprite {
    #[cfg(test)]
    pub fn new(width: u32, height: u32) -> Sprite {
        Sprite { width, height, px: vec![[0.0; 4]; width as usize * height as usize] }
    }

    /// A sprite of colour `c` whose alpha is `mask` (0..1, row-major `width` x `height`).
    pub fn from_mask(width: u32, height: u32, mask: &[f32], c: Rgb, alpha: f32) -> Sprite {
        let px = mask.iter().map(|m| {
            let a = (m * alpha).clamp(0.0, 1.0);
            [c[0] * a, c[1] * a, c[2] * a, a]
        });
        Sprite { width, height, px: px.collect() }
    }

    /// `top` laid over this sprite at (`x`, `y`) (source-over, premultiplied).
    pub fn over(&mut self, top: &Sprite, x: i64, y: i64) {
        for sy in 0..top.height {
            let ty = y + sy as i64;
            if ty < 0 || ty >= self.height as i64 {
                continue;
            }
            for sx in 0..top.width {
                let tx = x + sx as i64;
                if tx < 0 || tx >= self.width as i64 {
                    continue;
                }
                let q = top.px[(sy * top.width + sx) as usize];
                let p = &mut self.px[(ty as u32 * self.width + tx as u32) as usize];
                for c in 0..4 {
                    p[c] = q[c] + p[c] * (1.0 - q[3]);
                }
            }
        }
    }
}

/// Three box blurs of radius `r` (close to a Gaussian of sigma ~ r), on a mask.
pub fn blur(mask: &mut [f32], width: u32, height: u32, r: u32) {
    if r == 0 || width == 0 || height == 0 {
        return;
    }
    let (w, h) = (width as usize, height as usize);
    let mut tmp = vec![0.0f32; w.max(h)];
    for _ in 0..3 {
        for y in 0..h {
            box_line(&mut mask[y * w..(y + 1) * w], &mut tmp[..w], r as usize);
        }
        let mut col = vec![0.0f32; h];
        for x in 0..w {
            for y in 0..h {
                col[y] = mask[y * w + x];
            }
            box_line(&mut col, &mut tmp[..h], r as usize);
            for y in 0..h {
                mask[y * w + x] = col[y];
            }
        }
    }
}

fn box_line(line: &mut [f32], tmp: &mut [f32], r: usize) {
    let n = line.len();
    let norm = 1.0 / (2 * r + 1) as f32;
    let at = |i: isize| line[i.clamp(0, n as isize - 1) as usize];
    let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
    for (i, t) in tmp.iter_mut().enumerate().take(n) {
        *t = acc * norm;
        acc += at(i as isize + r as isize + 1) - at(i as isize - r as isize);
    }
    line.copy_from_slice(&tmp[..n]);
}

/// Where a sprite lands on the output frame: output pixel `o` samples sprite pixel
/// `(o + 0.5) / scale + origin - 0.5` on each axis.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub origin_x: f64,
    pub origin_y: f64,
    /// Output pixels per sprite pixel.
    pub scale: f64,
    /// Multiplies the sprite's alpha (entrances fade in).
    pub opacity: f32,
}

/// Composite a sprite onto an RGB8 frame (`w` x `h`) with bilinear sampling, transparent
/// outside the sprite. Only the rows and columns the sprite can reach are visited.
pub fn draw_sprite(frame: &mut [u8], w: u32, h: u32, s: &Sprite, p: Placement) {
    if p.opacity <= 0.0 || s.width == 0 || s.height == 0 {
        return;
    }
    // Output range the sprite covers (one pixel of margin for the bilinear edge).
    let o0x = ((-p.origin_x - 1.0) * p.scale).floor().max(0.0) as u32;
    let o1x = (((s.width as f64 - p.origin_x + 1.0) * p.scale).ceil().max(0.0) as u32).min(w);
    let o0y = ((-p.origin_y - 1.0) * p.scale).floor().max(0.0) as u32;
    let o1y = (((s.height as f64 - p.origin_y + 1.0) * p.scale).ceil().max(0.0) as u32).min(h);
    if o0x >= o1x || o0y >= o1y {
        return;
    }
    let tap = |o: u32, origin: f64| -> (i64, f32) {
        let v = (o as f64 + 0.5) / p.scale + origin - 0.5;
        let f = v.floor();
        (f as i64, (v - f) as f32)
    };
    let xs: Vec<(i64, f32)> = (o0x..o1x).map(|o| tap(o, p.origin_x)).collect();
    let (sw, sh) = (s.width as i64, s.height as i64);
    let get = |x: i64, y: i64| -> [f32; 4] {
        if x < 0 || y < 0 || x >= sw || y >= sh {
            [0.0; 4]
        } else {
            s.px[(y * sw + x) as usize]
        }
    };
    for oy in o0y..o1y {
        let (y0, fy) = tap(oy, p.origin_y);
        if y0 < -1 || y0 >= sh {
            continue;
        }
        let row = &mut frame[(oy * w * 3) as usize..((oy + 1) * w * 3) as usize];
        for (k, &(x0, fx)) in xs.iter().enumerate() {
            if x0 < -1 || x0 >= sw {
                continue;
            }
            let (a, b, c, d) = (get(x0, y0), get(x0 + 1, y0), get(x0, y0 + 1), get(x0 + 1, y0 + 1));
            let alpha = lerp2(a[3], b[3], c[3], d[3], fx, fy) * p.opacity;
            if alpha <= 0.001 {
                continue;
            }
            let o = &mut row[(o0x as usize + k) * 3..(o0x as usize + k) * 3 + 3];
            for ch in 0..3 {
                let src = lerp2(a[ch], b[ch], c[ch], d[ch], fx, fy) * p.opacity * 255.0;
                // + 0.5 and truncate: rounding without a call to libm's roundf per sample.
                o[ch] = (src + o[ch] as f32 * (1.0 - alpha) + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
}

fn lerp2(a: f32, b: f32, c: f32, d: f32, fx: f32, fy: f32) -> f32 {
    let top = a + (b - a) * fx;
    let bot = c + (d - c) * fx;
    top + (bot - top) * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_antialiased_and_inside_their_bounds() {
        let mut c = Canvas::gradient(64, 64, [0.0; 3], [0.0; 3], 0.0);
        c.disc(32.0, 32.0, 10.0, [1.0; 3], 1.0);
        let img = c.to_rgb8();
        assert_eq!(img.get_pixel(32, 32).0, [255; 3]);
        assert_eq!(img.get_pixel(5, 5).0, [0; 3]);
        // An edge pixel is partly covered.
        let edge = img.pixels().filter(|p| p.0[0] > 10 && p.0[0] < 245).count();
        assert!(edge >= 20, "no anti-aliased edge: {edge}");
    }

    #[test]
    fn a_sprite_drawn_at_scale_one_lands_where_placed() {
        let mut s = Sprite::new(4, 4);
        s.px = vec![[1.0, 0.0, 0.0, 1.0]; 16];
        let mut frame = vec![0u8; 16 * 16 * 3];
        draw_sprite(&mut frame, 16, 16, &s, Placement { origin_x: -6.0, origin_y: -2.0, scale: 1.0, opacity: 1.0 });
        let at = |x: usize, y: usize| frame[(y * 16 + x) * 3];
        assert_eq!(at(6, 2), 255);
        assert_eq!(at(9, 5), 255);
        assert_eq!(at(10, 5), 0);
        assert_eq!(at(5, 2), 0);
        // Half opacity over black: half the value.
        let mut frame = vec![0u8; 16 * 16 * 3];
        draw_sprite(&mut frame, 16, 16, &s, Placement { origin_x: -6.0, origin_y: -2.0, scale: 1.0, opacity: 0.5 });
        assert!((frame[(3 * 16 + 7) * 3] as i32 - 128).abs() <= 1);
    }

    #[test]
    fn blur_keeps_the_mass_of_a_mask() {
        let mut m = vec![0.0f32; 32 * 32];
        m[16 * 32 + 16] = 1.0;
        blur(&mut m, 32, 32, 2);
        let sum: f32 = m.iter().sum();
        assert!((sum - 1.0).abs() < 1e-3, "{sum}");
        assert!(m[16 * 32 + 16] < 0.2 && m[16 * 32 + 17] > 0.0);
    }
}
