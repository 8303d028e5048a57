//! API keys: read from the environment, never printed. `Debug`/`Display` show `***`, and
//! `redact` scrubs a key out of any text (error bodies sometimes echo the request).

use std::fmt;
use std::sync::Arc;

use crate::providers::ProviderError;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Arc::from(value.into()))
    }

    /// The key named by `var`; a missing or empty variable is an actionable auth error.
    pub fn from_env(var: &str, backend: &str) -> Result<Secret, ProviderError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
            _ => Err(ProviderError::Auth(format!("{backend} needs an API key: set the environment variable {var}"))),
        }
    }

    /// The key itself, for building a request header. Nothing else should call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `text` with every occurrence of each secret (4+ characters) replaced by `***`.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.0.len() >= 4 {
            out = out.replace(&*s.0, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("sk-live-123456");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert_eq!(redact("bad key sk-live-123456 given", &[&s]), "bad key *** given");
    }
}
