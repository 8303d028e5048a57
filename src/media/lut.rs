//! Colour looks as 3D LUTs in the `.cube` format (Adobe/Resolve): parsing with clear
//! errors, writing, and the formulas of the looks admint ships (`looks/*.cube` are made
//! from these formulas; a test keeps them equal).
//!
//! The format: optional `TITLE "…"`, `LUT_3D_SIZE N` (2..=256), optional `DOMAIN_MIN r g b`
//! and `DOMAIN_MAX r g b`, comments after `#`, then N³ rows `r g b` with red changing
//! fastest, then green, then blue.

use std::fmt::Write as _;

/// A parsed 3D LUT.
#[derive(Debug, Clone, PartialEq)]
pub struct Cube {
    pub title: String,
    pub size: usize,
    pub domain_min: [f64; 3],
    pub domain_max: [f64; 3],
    /// `size³` output colours, red fastest.
    pub table: Vec<[f64; 3]>,
}

/// The largest LUT ffmpeg's lut3d reads.
pub const MAX_CUBE_SIZE: usize = 256;

/// Parse a `.cube` file's text. `origin` names it in errors.
pub fn parse_cube(text: &str, origin: &str) -> Result<Cube, String> {
    let err = |line: usize, m: String| format!("{origin}, line {line}: {m}");
    let (mut title, mut size, mut dmin, mut dmax) = (String::new(), None, [0.0; 3], [1.0; 3]);
    let mut table = Vec::new();
    let triple = |n: usize, rest: &[&str]| -> Result<[f64; 3], String> {
        let v: Vec<f64> = rest.iter().map(|w| w.parse::<f64>()).collect::<Result<_, _>>().map_err(|_| err(n, format!("\"{}\" is not three numbers", rest.join(" "))))?;
        match v.as_slice() {
            [r, g, b] if v.iter().all(|x| x.is_finite()) => Ok([*r, *g, *b]),
            _ => Err(err(n, format!("expected three finite numbers, found \"{}\"", rest.join(" ")))),
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "TITLE" => title = line["TITLE".len()..].trim().trim_matches('"').to_string(),
            "LUT_1D_SIZE" => return Err(err(n, "a 1D LUT: admint takes 3D LUTs (LUT_3D_SIZE)".into())),
            "LUT_3D_SIZE" => {
                let s: usize = words.get(1).and_then(|w| w.parse().ok()).ok_or_else(|| err(n, "LUT_3D_SIZE needs a whole number".into()))?;
                if !(2..=MAX_CUBE_SIZE).contains(&s) {
                    return Err(err(n, format!("LUT_3D_SIZE {s} is out of range: 2 to {MAX_CUBE_SIZE}")));
                }
                if !table.is_empty() {
                    return Err(err(n, "LUT_3D_SIZE must come before the table".into()));
                }
                size = Some(s);
            }
            "DOMAIN_MIN" => dmin = triple(n, &words[1..])?,
            "DOMAIN_MAX" => dmax = triple(n, &words[1..])?,
            "LUT_3D_INPUT_RANGE" => {
                let v = triple(n, &[words.get(1).copied().unwrap_or(""), words.get(2).copied().unwrap_or(""), "0"])?;
                dmin = [v[0]; 3];
                dmax = [v[1]; 3];
            }
            w if w.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.' || c == '+') => {
                if size.is_none() {
                    return Err(err(n, "table rows before LUT_3D_SIZE".into()));
                }
                table.push(triple(n, &words)?);
            }
            other => return Err(err(n, format!("unknown keyword \"{other}\""))),
        }
    }
    let size = size.ok_or_else(|| format!("{origin}: no LUT_3D_SIZE line: not a 3D .cube file"))?;
    if (0..3).any(|c| dmin[c] >= dmax[c]) {
        return Err(format!("{origin}: DOMAIN_MIN {dmin:?} must be below DOMAIN_MAX {dmax:?} in every channel"));
    }
    let want = size * size * size;
    if table.len() != want {
        return Err(format!("{origin}: LUT_3D_SIZE {size} needs {want} rows ({size}³), the file has {}", table.len()));
    }
    Ok(Cube { title, size, domain_min: dmin, domain_max: dmax, table })
}

impl Cube {
    /// A LUT of `size` sampling `f` over 0..1 RGB.
    pub fn from_fn(title: &str, size: usize, f: impl Fn([f64; 3]) -> [f64; 3]) -> Cube {
        let step = |i: usize| i as f64 / (size - 1) as f64;
        let mut table = Vec::with_capacity(size * size * size);
        for b in 0..size {
            for g in 0..size {
                for r in 0..size {
                    table.push(f([step(r), step(g), step(b)]).map(|x| x.clamp(0.0, 1.0)));
                }
            }
        }
        Cube { title: title.to_string(), size, domain_min: [0.0; 3], domain_max: [1.0; 3], table }
    }

    /// Whether the LUT leaves every colour where it is (within half an 8-bit level):
    /// grading with it would only cost time.
    pub fn is_identity(&self) -> bool {
        let n = self.size;
        let span = |c: usize| self.domain_max[c] - self.domain_min[c];
        self.table.iter().enumerate().all(|(i, out)| {
            let idx = [i % n, (i / n) % n, i / (n * n)];
            (0..3).all(|c| {
                let input = self.domain_min[c] + span(c) * idx[c] as f64 / (n - 1) as f64;
                (out[c] - input).abs() <= 0.5 / 255.0
            })
        })
    }

    /// Grade one colour (0..1 RGB) by trilinear interpolation of the table, as lut3d's
    /// `interp=trilinear` would (close to the tetrahedral grade the final cut uses).
    pub fn apply(&self, c: [f64; 3]) -> [f64; 3] {
        let n = self.size;
        let mut i0 = [0usize; 3];
        let mut f = [0.0f64; 3];
        for k in 0..3 {
            let span = (self.domain_max[k] - self.domain_min[k]).max(1e-12);
            let x = ((c[k] - self.domain_min[k]) / span).clamp(0.0, 1.0) * (n - 1) as f64;
            i0[k] = (x.floor() as usize).min(n - 2);
            f[k] = x - i0[k] as f64;
        }
        let at = |r: usize, g: usize, b: usize| self.table[r + n * (g + n * b)];
        let mut out = [0.0; 3];
        for (dr, dg, db) in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1), (1, 1, 1)] {
            let w = (if dr == 1 { f[0] } else { 1.0 - f[0] }) * (if dg == 1 { f[1] } else { 1.0 - f[1] }) * (if db == 1 { f[2] } else { 1.0 - f[2] });
            let v = at(i0[0] + dr, i0[1] + dg, i0[2] + db);
            for k in 0..3 {
                out[k] += w * v[k];
            }
        }
        out
    }

    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(self.table.len() * 28 + 64);
        let _ = writeln!(s, "TITLE \"{}\"", self.title);
        let _ = writeln!(s, "LUT_3D_SIZE {}", self.size);
        for c in &self.table {
            let _ = writeln!(s, "{:.6} {:.6} {:.6}", c[0], c[1], c[2]);
        }
        s
    }
}

/// Rec. 709 luma.
fn luma(c: [f64; 3]) -> f64 {
    0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
}

/// Scale saturation around the luma: 0 is grey, 1 unchanged.
fn saturate(c: [f64; 3], s: f64) -> [f64; 3] {
    let y = luma(c);
    c.map(|x| y + (x - y) * s)
}

/// An S-curve of strength `k` (0 none, 1 smoothstep) around mid grey.
fn contrast(x: f64, k: f64) -> f64 {
    let s = x * x * (3.0 - 2.0 * x);
    x + (s - x) * k
}

/// The looks admint ships, by name, as functions of 0..1 RGB. `looks/README.md` states
/// the same formulas in words.
pub const SHIPPED_LOOKS: [&str; 8] = ["natural", "warm", "cool", "teal-orange", "punchy", "soft", "mono", "vintage"];

pub fn look_formula(name: &str) -> Option<fn([f64; 3]) -> [f64; 3]> {
    Some(match name {
        // Identity: the clips as the model made them.
        "natural" => |c| c,
        // Warmer white balance: red up 6 %, blue down 10 %, a touch more contrast.
        "warm" => |c| [c[0] * 1.06 + 0.01, c[1] * 1.01, c[2] * 0.90].map(|x| contrast(x.clamp(0.0, 1.0), 0.15)),
        // Cooler white balance: blue up 8 %, red down 8 %.
        "cool" => |c| [c[0] * 0.92, c[1] * 1.0, c[2] * 1.08 + 0.01],
        // Split toning: shadows pushed to teal, highlights to orange, by luma; saturation 1.1.
        "teal-orange" => |c| {
            let y = luma(c);
            let (sh, hi) = ((1.0 - y) * 0.12, y * 0.12);
            saturate([c[0] - sh + hi, c[1] + sh * 0.4 + hi * 0.3, c[2] + sh - hi], 1.1)
        },
        // Punchy: an S-curve (0.35) and saturation 1.25.
        "punchy" => |c| saturate(c.map(|x| contrast(x, 0.35)), 1.25),
        // Soft: blacks lifted to 0.06, whites lowered to 0.95, saturation 0.85.
        "soft" => |c| saturate(c, 0.85).map(|x| 0.06 + x * 0.89),
        // Mono: Rec. 709 luma with a gentle S-curve (0.2).
        "mono" => |c| [contrast(luma(c), 0.2); 3],
        // Vintage: faded blacks (0.08), warm highlights, green-tinted shadows, saturation 0.75.
        "vintage" => |c| {
            let y = luma(c);
            let d = saturate(c, 0.75);
            [0.08 + d[0] * 0.88 + y * 0.04, 0.08 + d[1] * 0.86 + (1.0 - y) * 0.03, 0.06 + d[2] * 0.80]
        },
        _ => return None,
    })
}

/// The shipped look `name` as a `.cube` (size 17).
pub fn shipped_cube(name: &str) -> Option<Cube> {
    look_formula(name).map(|f| Cube::from_fn(name, 17, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_cubes_are_refused_with_what_is_wrong() {
        let ok = shipped_cube("natural").unwrap().to_text();
        assert_eq!(parse_cube(&ok, "n.cube").unwrap().table.len(), 17 * 17 * 17);
        let e = |t: &str| parse_cube(t, "x.cube").unwrap_err();
        assert!(e("TITLE \"x\"\n0 0 0\n").contains("before LUT_3D_SIZE"));
        assert!(e("LUT_3D_SIZE 2\n0 0 0\n1 1 1\n").contains("needs 8 rows"), "{}", e("LUT_3D_SIZE 2\n0 0 0\n1 1 1\n"));
        assert!(e("LUT_3D_SIZE 1\n").contains("out of range"));
        assert!(e("LUT_3D_SIZE 999\n").contains("out of range"));
        assert!(e("LUT_1D_SIZE 16\n").contains("1D LUT"));
        assert!(e("LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n").contains("DOMAIN_MIN"));
        assert!(e("LUT_3D_SIZE 2\n0 0 zero\n").contains("line 2"));
        assert!(e("hello\n").contains("unknown keyword"));
        assert!(e("").contains("no LUT_3D_SIZE"));
        assert!(shipped_cube("natural").unwrap().is_identity());
        assert!(!shipped_cube("warm").unwrap().is_identity());
    }

    #[test]
    fn applying_a_cube_follows_its_formula_between_the_grid_points() {
        let id = shipped_cube("natural").unwrap();
        let warm = shipped_cube("warm").unwrap();
        let f = look_formula("warm").unwrap();
        for c in [[0.1, 0.5, 0.9], [0.33, 0.33, 0.33], [1.0, 0.0, 0.2]] {
            let a = id.apply(c);
            assert!((0..3).all(|k| (a[k] - c[k]).abs() < 1e-9), "{a:?}");
            let (w, want) = (warm.apply(c), f(c));
            assert!((0..3).all(|k| (w[k] - want[k]).abs() < 0.01), "{w:?} vs {want:?}");
        }
    }

    #[test]
    fn the_shipped_look_files_are_their_formulas() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("looks");
        for name in SHIPPED_LOOKS {
            let want = shipped_cube(name).unwrap().to_text();
            let path = dir.join(format!("{name}.cube"));
            if std::env::var_os("ADMINT_WRITE_LOOKS").is_some() {
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (ADMINT_WRITE_LOOKS=1 cargo test writes it)", path.display()));
            assert!(have == want, "{} differs from its formula (ADMINT_WRITE_LOOKS=1 cargo test rewrites it)", path.display());
        }
    }
}
