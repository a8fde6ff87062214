//! `Secret<T>`: a value that never prints itself.
//!
//! A token lives in a `Secret` from the moment it is read until the moment it is written to a file
//! or sent to its own host. It has no `Display`, its `Debug` prints `REDACTED`, every read of the
//! value goes through [`Secret::expose`] (so each use is easy to find), and the memory is wiped
//! when it is dropped.

use std::fmt;
use zeroize::Zeroize;

/// A secret value; see the module documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret itself. Every call is a place where the secret leaves its wrapper.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

/// Known token prefixes, longest first, that say what kind of token it is without revealing it.
const PREFIXES: &[&str] = &[
    "github_pat_",
    "glpat-",
    "gloas-",
    "glrt-",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "pfx_",
];

/// A short, one-way fingerprint of a token (16 hex digits of its SHA-256), to tell whether a file
/// still holds the same token without keeping the token.
pub fn fingerprint(token: &Secret<String>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.expose().as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The known kind prefix `text` starts with, if any.
pub fn kind_prefix(text: &str) -> Option<&'static str> {
    PREFIXES.iter().copied().find(|p| text.starts_with(p))
}

/// How a token is shown to people: its kind prefix (such as `ghp_` or `PAT:glpat-`), asterisks, and
/// the last two characters. Short tokens show nothing but asterisks.
pub fn mask(token: &Secret<String>) -> String {
    let t = token.expose();
    let mut shown = String::new();
    let mut rest = t.as_str();
    for marker in ["PAT:", "OAuth2:"] {
        if let Some(r) = rest.strip_prefix(marker) {
            shown.push_str(marker);
            rest = r;
        }
    }
    if let Some(p) = kind_prefix(rest) {
        shown.push_str(p);
        rest = &rest[p.len()..];
    }
    let chars: Vec<char> = rest.chars().collect();
    if chars.len() < 12 {
        shown.push_str("****");
    } else {
        shown.push_str("****");
        shown.extend(&chars[chars.len() - 2..]);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from("ghp_supersecretvalue1234");
        assert_eq!(format!("{s:?}"), "Secret(REDACTED)");
    }

    #[test]
    fn mask_keeps_kind_and_last_two() {
        assert_eq!(mask(&"ghp_abcdefghijklmnopqrstuvwxyz".into()), "ghp_****yz");
        assert_eq!(
            mask(&"PAT:glpat-abcdefghijklmnop".into()),
            "PAT:glpat-****op"
        );
        assert_eq!(mask(&"0123456789abcdefXY".into()), "****XY");
        assert_eq!(mask(&"short".into()), "****");
        assert_eq!(mask(&"ghp_short".into()), "ghp_****");
    }
}
