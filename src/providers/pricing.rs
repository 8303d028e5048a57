//! The price table: shipped defaults (`prices.toml`) under the user's `[prices]`.

use std::collections::BTreeMap;

use crate::config::Price;

const SHIPPED: &str = include_str!("prices.toml");

#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    prices: BTreeMap<String, Price>,
}

impl PriceBook {
    /// The shipped table with the user's entries on top (an entry replaces a whole price).
    pub fn new(user: &BTreeMap<String, Price>) -> PriceBook {
        let mut prices: BTreeMap<String, Price> = toml::from_str(SHIPPED).expect("the shipped price table parses");
        prices.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
        PriceBook { prices }
    }

    pub fn get(&self, model_id: &str) -> Option<&Price> {
        self.prices.get(model_id)
    }
}

/// The cost of calls under a price.
pub trait Cost {
    fn images(&self, n: u32) -> f64;
    fn video(&self, seconds: f64) -> f64;
    fn tokens(&self, input: u64, output: u64) -> f64;
    fn characters(&self, n: usize) -> f64;
    /// Compute time actually used (Replicate's `metrics.predict_time`), when priced so.
    fn predict(&self, seconds: f64) -> Option<f64>;
}

impl Cost for Price {
    fn images(&self, n: u32) -> f64 {
        self.per_call + self.per_image * n as f64 + self.per_predict_second * self.expected_predict_s
    }
    fn video(&self, seconds: f64) -> f64 {
        self.per_call + self.per_second * seconds + self.per_predict_second * self.expected_predict_s
    }
    fn tokens(&self, input: u64, output: u64) -> f64 {
        self.per_call + (self.per_1m_input_tokens * input as f64 + self.per_1m_output_tokens * output as f64) / 1e6
    }
    fn characters(&self, n: usize) -> f64 {
        self.per_call + self.per_1k_characters * n as f64 / 1000.0
    }
    fn predict(&self, seconds: f64) -> Option<f64> {
        (self.per_predict_second > 0.0).then_some(self.per_call + self.per_predict_second * seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_prices_replace_shipped_ones() {
        let mut user = BTreeMap::new();
        user.insert("replicate:google/veo-3-fast".to_string(), Price { per_second: 0.1, ..Default::default() });
        let book = PriceBook::new(&user);
        assert!((book.get("replicate:google/veo-3-fast").unwrap().video(8.0) - 0.8).abs() < 1e-9);
        assert!((book.get("openai:gpt-4o-mini").unwrap().tokens(1_000_000, 0) - 0.15).abs() < 1e-9);
        assert!(book.get("replicate:someone/unknown").is_none());
    }
}
