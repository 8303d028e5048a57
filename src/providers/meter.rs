//! Costs of calls that are not jobs (chat, vision): backends add to the meter, the
//! pipeline books them to the stage that made them.

use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq)]
pub struct Metered {
    pub model: String,
    pub usd: f64,
    /// From the provider's usage report (else the estimate).
    pub actual: bool,
}

#[derive(Debug, Default)]
pub struct CostMeter(Mutex<Vec<Metered>>);

impl CostMeter {
    /// Book a call: its reported cost, else its estimate. Free calls are not kept.
    pub fn add(&self, model: &str, actual: Option<f64>, estimate: Option<f64>) {
        let (usd, is_actual) = match (actual, estimate) {
            (Some(a), _) => (a, true),
            (None, Some(e)) => (e, false),
            (None, None) => return,
        };
        if usd > 0.0 {
            self.0.lock().expect("cost meter").push(Metered { model: model.to_string(), usd, actual: is_actual });
        }
    }

    /// Everything booked since the last call.
    pub fn drain(&self) -> Vec<Metered> {
        std::mem::take(&mut *self.0.lock().expect("cost meter"))
    }
}
