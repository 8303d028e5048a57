//! The content-addressed cache index: a result's key (hash of everything it depends on)
//! to what was made.

use serde::{de::DeserializeOwned, Serialize};

use super::{Store, StoreError};

impl Store {
    /// Look up a provider result by its content key. Entries that no longer parse are misses.
    pub fn cache_get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        Ok(self
            .cache
            .get(key.as_bytes())?
            .and_then(|v| serde_json::from_slice::<T>(&v).ok()))
    }

    /// Record a provider result under its content key (flushed with the next event).
    pub fn cache_put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Open {
            path: "cache".into(),
            message: e.to_string(),
        })?;
        self.cache.insert(key.as_bytes(), bytes)?;
        Ok(())
    }

    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }
}
