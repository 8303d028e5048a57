//! A/B variants: the matrix asked for (`hooks=2,ctas=2,aspects=16:9,9:16`) and what
//! each variant changes. Pure: the lines come from the framework (`hooks`, `ctas`).

use serde::{Deserialize, Serialize};

use super::Aspect;

/// One axis of the matrix: how many (the original first), or the texts themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Axis {
    Count(usize),
    Given(Vec<String>),
}

impl Default for Axis {
    fn default() -> Self {
        Axis::Count(1)
    }
}

/// The matrix: every hook × every CTA × every aspect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantAxes {
    pub hooks: Axis,
    pub ctas: Axis,
    /// Empty: the brief's own.
    pub aspects: Vec<Aspect>,
}

/// The most variants one matrix may ask for.
pub const MAX_VARIANTS: usize = 64;

impl VariantAxes {
    /// `hooks=2,ctas=2,aspects=16:9,9:16`; `hooks=Ready to run?|Meet AirRun` gives the
    /// texts; a value after a comma with no `=` continues the list before it.
    pub fn parse(s: &str) -> Result<VariantAxes, String> {
        let mut axes = VariantAxes::default();
        let mut last: Option<String> = None;
        let mut values: Vec<(String, Vec<String>)> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((k, v)) => {
                    let k = k.trim().to_lowercase();
                    values.push((k.clone(), vec![v.trim().to_string()]));
                    last = Some(k);
                }
                None if last.is_some() => values.last_mut().expect("a key came first").1.push(part.to_string()),
                None => return Err(format!("variants \"{s}\": write hooks=N, ctas=N and aspects=16:9,9:16 (e.g. hooks=2,ctas=2,aspects=16:9,9:16)")),
            }
        }
        let axis = |vals: &[String], what: &str| -> Result<Axis, String> {
            let texts: Vec<String> = vals.iter().flat_map(|v| v.split('|')).map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
            match texts.as_slice() {
                [one] if one.parse::<usize>().is_ok() => {
                    let n: usize = one.parse().unwrap_or(1);
                    if n == 0 {
                        return Err(format!("{what}=0: ask for at least 1"));
                    }
                    Ok(Axis::Count(n))
                }
                [] => Err(format!("{what}= needs a number or texts separated by |")),
                _ => Ok(Axis::Given(texts)),
            }
        };
        for (k, vals) in values {
            match k.as_str() {
                "hooks" | "hook" => axes.hooks = axis(&vals, "hooks")?,
                "ctas" | "cta" => axes.ctas = axis(&vals, "ctas")?,
                "aspects" | "aspect" => {
                    axes.aspects = vals.iter().flat_map(|v| v.split('|')).map(|a| a.parse::<Aspect>()).collect::<Result<_, _>>()?;
                    axes.aspects.dedup();
                }
                other => return Err(format!("variants: unknown axis \"{other}\" (use hooks, ctas, aspects)")),
            }
        }
        let n = axes.len(1);
        if n > MAX_VARIANTS {
            return Err(format!("{n} variants is more than {MAX_VARIANTS}: ask for fewer"));
        }
        Ok(axes)
    }

    /// How many variants the matrix makes.
    pub fn len(&self, brief_aspects: usize) -> usize {
        let n = |a: &Axis| match a {
            Axis::Count(n) => *n,
            Axis::Given(t) => t.len(),
        };
        n(&self.hooks) * n(&self.ctas) * if self.aspects.is_empty() { brief_aspects } else { self.aspects.len() }
    }
}

/// A hook: the first scene's on-screen text and voiceover line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookLine {
    pub on_screen: String,
    pub voiceover: String,
}

/// One cell of the matrix. `hook: None` keeps the advert's own opening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// `h1-c2-9x16`.
    pub id: String,
    pub hook: Option<HookLine>,
    pub cta: String,
    pub aspect: Aspect,
}

/// Every variant: hook `i` (0 = the advert's own) × CTA `j` (0 = the brief's) × aspect.
/// `hooks` and `ctas` are the candidate lines after the originals; too few is an error.
pub fn variant_matrix(axes: &VariantAxes, brief_cta: &str, brief_aspect: Aspect, hooks: &[HookLine], ctas: &[String]) -> Result<Vec<Variant>, String> {
    let hook_list: Vec<Option<HookLine>> = match &axes.hooks {
        Axis::Count(n) => {
            if n - 1 > hooks.len() {
                return Err(format!("hooks={n}: the framework has {} other hook(s); give the texts instead (hooks=First|Second)", hooks.len()));
            }
            std::iter::once(None).chain(hooks.iter().take(n - 1).cloned().map(Some)).collect()
        }
        Axis::Given(t) => t.iter().map(|t| Some(HookLine { on_screen: t.clone(), voiceover: t.clone() })).collect(),
    };
    let cta_list: Vec<String> = match &axes.ctas {
        Axis::Count(n) => {
            let others: Vec<&String> = ctas.iter().filter(|c| !c.eq_ignore_ascii_case(brief_cta)).collect();
            if n - 1 > others.len() {
                return Err(format!("ctas={n}: the framework has {} other call(s) to action; give the texts instead (ctas=Shop now|Get 20% off)", others.len()));
            }
            std::iter::once(brief_cta.to_string()).chain(others.into_iter().take(n - 1).cloned()).collect()
        }
        Axis::Given(t) => t.clone(),
    };
    let aspects = if axes.aspects.is_empty() { vec![brief_aspect] } else { axes.aspects.clone() };
    let mut out = Vec::new();
    for (i, hook) in hook_list.iter().enumerate() {
        for (j, cta) in cta_list.iter().enumerate() {
            for aspect in &aspects {
                let id = format!("h{}-c{}-{}", i + 1, j + 1, aspect.id().replace(':', "x"));
                out.push(Variant { id, hook: hook.clone(), cta: cta.clone(), aspect: *aspect });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(t: &str) -> HookLine {
        HookLine { on_screen: t.into(), voiceover: format!("{t}.") }
    }

    #[test]
    fn the_issue_s_spelling_parses() {
        let a = VariantAxes::parse("hooks=2,ctas=2,aspects=16:9,9:16").unwrap();
        assert_eq!(a, VariantAxes { hooks: Axis::Count(2), ctas: Axis::Count(2), aspects: vec![Aspect::Landscape, Aspect::Portrait] });
        assert_eq!(a.len(1), 8);
        let a = VariantAxes::parse("ctas=Shop now|Get 20% off: today").unwrap();
        assert_eq!(a.ctas, Axis::Given(vec!["Shop now".into(), "Get 20% off: today".into()]));
        for bad in ["colours=2", "hooks=0", "9:16", "aspects=4:3", "hooks=", "hooks=9,ctas=9"] {
            assert!(VariantAxes::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_matrix_starts_from_the_original_and_names_every_cell() {
        let a = VariantAxes::parse("hooks=2,ctas=2,aspects=16:9,9:16").unwrap();
        let v = variant_matrix(&a, "Shop now", Aspect::Landscape, &[hook("Ready?"), hook("Stop scrolling")], &["shop now".into(), "Get yours".into()]).unwrap();
        assert_eq!(v.len(), 8);
        assert_eq!(v[0], Variant { id: "h1-c1-16x9".into(), hook: None, cta: "Shop now".into(), aspect: Aspect::Landscape });
        assert_eq!(v[7].id, "h2-c2-9x16");
        assert_eq!(v[7].hook, Some(hook("Ready?")));
        assert_eq!(v[7].cta, "Get yours", "the brief's own CTA is not offered twice");
        assert!(variant_matrix(&VariantAxes::parse("hooks=4").unwrap(), "x", Aspect::Square, &[hook("a")], &[]).unwrap_err().contains("give the texts"));
    }
}
