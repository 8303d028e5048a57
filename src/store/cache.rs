//! The content-addressed cache index: a result's key (hash of everything it depends on)
//! to what was made.

use serde::{de::DeserializeOwned, Serialize};

use super::{Store, StoreError};

impl Store {
    /// Look up a provider result by its content key. Entries that no longer parse are misses.
    pub fn cache_get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let Ok(db) = self.db() else { return Ok(None) };
        Ok(db.cache.get(key.as_bytes())?.and_then(|v| serde_json::from_slice::<T>(&v).ok()))
    }

    /// Record a provider result under its content key: journalled (fsync'd), then put in
    /// sled (flushed with the next event).
    pub fn cache_put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let value = serde_json::to_value(value).map_err(|e| StoreError::Open { path: "cache".into(), message: e.to_string() })?;
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        let entry = serde_json::to_vec(&serde_json::json!({ "key": key, "value": value })).unwrap_or_default();
        let db = self.db()?;
        self.journal.append_cache(&entry)?;
        db.cache.insert(key.as_bytes(), bytes)?;
        Ok(())
    }

    /// The cache entries the journal holds, last word per key.
    fn journalled_cache(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for entry in self.journal.read_cache()? {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&entry) else { continue };
            if let (Some(key), Some(value)) = (v["key"].as_str(), v.get("value")) {
                out.insert(key.to_string(), serde_json::to_vec(value).unwrap_or_default());
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The journalled cache entries the database lacks or holds different.
    fn cache_stale(&self, db: &super::sessions::Db) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).ok();
        let mut stale = Vec::new();
        for (key, value) in self.journalled_cache()? {
            let held = db.cache.get(key.as_bytes()).ok().flatten();
            if held.and_then(|h| parse(&h)) != parse(&value) {
                stale.push((key, value));
            }
        }
        Ok(stale)
    }

    /// How many journalled cache entries the database lacks (or holds damaged).
    pub(super) fn cache_behind(&self) -> Result<usize, StoreError> {
        let Ok(db) = self.db() else { return Ok(0) };
        Ok(self.cache_stale(db)?.len())
    }

    /// Put back the cache entries the journal holds that the database lacks.
    pub(super) fn restore_cache(&self) -> Result<usize, StoreError> {
        let db = self.db()?;
        let stale = self.cache_stale(db)?;
        for (key, value) in &stale {
            db.cache.insert(key.as_bytes(), value.as_slice())?;
        }
        db.db.flush()?;
        Ok(stale.len())
    }

    pub fn cache_len(&self) -> usize {
        self.db().map_or(0, |db| db.cache.len())
    }
}
