//! VBench's Quality score: each dimension normalised by its (min, max) from VBench's
//! `scripts/constant.py`, weighted (dynamic degree 0.5, the rest 1), and averaged over
//! the dimensions present.

use std::collections::BTreeMap;

use crate::domain::DimensionScore;

/// The seven quality dimensions in VBench's order.
pub const DIMENSIONS: [&str; 7] = [
    "subject_consistency",
    "background_consistency",
    "temporal_flickering",
    "motion_smoothness",
    "dynamic_degree",
    "aesthetic_quality",
    "imaging_quality",
];

/// (min, max, weight) of a dimension.
pub fn normalisation(dim: &str) -> Option<(f64, f64, f64)> {
    Some(match dim {
        "subject_consistency" => (0.1462, 1.0, 1.0),
        "background_consistency" => (0.2615, 1.0, 1.0),
        "temporal_flickering" => (0.6293, 1.0, 1.0),
        "motion_smoothness" => (0.706, 0.9975, 1.0),
        "dynamic_degree" => (0.0, 1.0, 0.5),
        "aesthetic_quality" => (0.0, 1.0, 1.0),
        "imaging_quality" => (0.0, 1.0, 1.0),
        _ => return None,
    })
}

/// Quality 0..100 over the dimensions present (`None` when there are none).
pub fn quality(dims: &BTreeMap<String, DimensionScore>) -> Option<f64> {
    let (mut sum, mut weights) = (0.0, 0.0);
    for (name, d) in dims {
        let Some((min, max, w)) = normalisation(name) else { continue };
        if !d.value.is_finite() {
            continue;
        }
        sum += (d.value - min) / (max - min) * w;
        weights += w;
    }
    (weights > 0.0).then(|| 100.0 * sum / weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Method;

    #[test]
    fn quality_uses_vbench_constants_and_weights() {
        let d = |v| DimensionScore { value: v, method: Method::Exact, fraction: None };
        let mut dims = BTreeMap::new();
        dims.insert("temporal_flickering".to_string(), d(1.0)); // norm 1, w 1
        dims.insert("dynamic_degree".to_string(), d(0.0)); // norm 0, w .5
        dims.insert("motion_smoothness".to_string(), d(0.706)); // norm 0, w 1
        let q = quality(&dims).unwrap();
        assert!((q - 100.0 * 1.0 / 2.5).abs() < 1e-9, "{q}");
        assert_eq!(quality(&BTreeMap::new()), None);
    }
}
