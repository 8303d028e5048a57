//! Costs of calls that are not jobs (chat, vision): backends add to the meter, the
//! pipeline books them to the stage that made them, as it books jobs.

use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq)]
pub struct Metered {
    pub model: String,
    /// What the provider reported (token usage), when it did.
    pub actual: Option<f64>,
    /// The call's estimate; `None` for a paid model with no known price.
    pub estimate: Option<f64>,
}

#[derive(Debug, Default)]
pub struct CostMeter(Mutex<Vec<Metered>>);

impl CostMeter {
    pub fn add(&self, model: &str, actual: Option<f64>, estimate: Option<f64>) {
        self.0.lock().expect("cost meter").push(Metered { model: model.to_string(), actual, estimate });
    }

    /// Everything booked since the last call.
    pub fn drain(&self) -> Vec<Metered> {
        std::mem::take(&mut *self.0.lock().expect("cost meter"))
    }
}
