//! The small JSON files nix-tokens keeps beside nix.conf (host facts, OAuth logins): an empty or
//! missing file is the empty value, and an error names the file and line but never quotes it
//! (one of them holds refresh tokens).

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Reads `text`, the contents of `path`.
pub fn parse<T: DeserializeOwned + Default>(text: &str, path: &Path) -> Result<T> {
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(text).map_err(|e| {
        Error::failed(format!(
            "{} line {} is not valid; remove the file and log in again",
            path.display(),
            e.line()
        ))
    })
}

/// The text of `value`, or nothing at all when `empty`.
pub fn render<T: Serialize>(value: &T, empty: bool) -> String {
    if empty {
        return String::new();
    }
    let mut text = serde_json::to_string_pretty(value).expect("plain data always serializes");
    text.push('\n');
    text
}
