//! `Secret<T>`: a value that never prints itself.
//!
//! A token lives in a `Secret` from the moment it is read until the moment it is written to a file
//! or sent to its own host. It has no `Display`, its `Debug` prints `REDACTED`, every read of the
//! value goes through [`Secret::expose`] (so each use is easy to find), and the memory is wiped
//! when it is dropped.
//!
//! Every `Secret<String>` made also becomes a *known* secret of the process, with the forms it
//! travels in (the token inside an `Authorization` value, the password and the base64 of a basic
//! credential, a GitLab token without its `PAT:` / `OAuth2:` marker): [`scrub`] masks each of them
//! wherever a text holds one, and every text that came from a server passes through it
//! ([`crate::ui::printable`]), so a server that repeats a token it was sent shows only its mask.
//! Those known copies stay in memory until the process ends (a run lasts seconds); they are kept
//! only for masking, in memory that is wiped when freed.

use std::fmt;
use std::sync::Mutex;

use base64::Engine;
use zeroize::{Zeroize, Zeroizing};

mod url_mask;
pub use url_mask::mask_url;

/// A secret value; see the module documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T: Zeroize>(T);

impl Secret<String> {
    /// A secret, from now on known to [`scrub`].
    pub fn new(value: String) -> Self {
        remember(&value);
        Secret(value)
    }
}

impl<T: Zeroize> Secret<T> {
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
        Secret::new(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Secret::new(value.to_owned())
    }
}

/// Shorter values are not masked in texts: they would mask ordinary words, and a token this
/// short shows as `****` anyway.
const SHORTEST_KNOWN: usize = 8;

/// Every secret value the process has held, in each form it travels in, longest first.
static KNOWN: Mutex<Vec<Zeroizing<String>>> = Mutex::new(Vec::new());

/// The forms `value` may come back in from a server: itself, the credential of an
/// `Authorization` value (`token T`, `Bearer T`, `Basic B64`), the `login:password` and the
/// password inside a basic credential, and a GitLab token without its `PAT:` / `OAuth2:` marker.
fn forms(value: &str) -> Vec<Zeroizing<String>> {
    let mut out = vec![Zeroizing::new(value.to_owned())];
    let mut add = |form: &str| out.push(Zeroizing::new(form.to_owned()));
    for marker in STORED_MARKERS {
        if let Some(rest) = value.strip_prefix(marker) {
            add(rest);
        }
    }
    if let Some((scheme, credential)) = auth_scheme(value) {
        add(credential);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credential)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Zeroizing::new);
        if scheme.eq_ignore_ascii_case("basic")
            && let Some(pair) = decoded
        {
            add(&pair);
            if let Some((_, password)) = pair.split_once(':') {
                add(password);
            }
        }
    }
    out
}

/// The scheme and credential of an `Authorization` value nix-tokens sends (`token T`,
/// `Bearer T`, `Basic B64`).
fn auth_scheme(value: &str) -> Option<(&str, &str)> {
    value.split_once(' ').filter(|(scheme, _)| {
        ["token", "bearer", "basic"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
    })
}

/// Makes `value` (in each of its [`forms`]) known to [`scrub`].
fn remember(value: &str) {
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    for form in forms(value) {
        if form.chars().count() >= SHORTEST_KNOWN && !known.iter().any(|k| **k == *form) {
            known.push(form);
        }
    }
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
}

/// `text` with every known secret in it replaced by its [`mask`]: what a server says is shown or
/// stored only after this.
pub fn scrub(text: &str) -> String {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_owned();
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            let masked = mask_text(secret);
            out = out.replace(secret.as_str(), &masked);
        }
    }
    out
}

/// netrc's keywords: curl reads any of them (in any case) as the keyword wherever it expects one,
/// so none is ever a value nix-tokens writes.
pub const NETRC_KEYWORDS: &[&str] = &[
    "machine", "default", "login", "password", "account", "macdef",
];

/// Whether `c` is a character that shows as nothing (zero-width spaces and joiners, direction
/// marks, the byte-order mark, the soft hyphen): a value holding one is not what it looks like.
pub fn invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// The longest token nix-tokens accepts.
pub const LONGEST_TOKEN: usize = 4096;

/// The one rule for what a token is, whatever it came from: typed or piped, a CI variable, a CI
/// exchange or its renewal, an OAuth answer, another user's file read by `import`. A token is one
/// word that Nix's `access-tokens` and curl's netrc read back whole, and that GitHub Actions'
/// `::add-mask::` hides whole: not empty, no white space or line break, no control character, no
/// `#` (Nix reads the rest as a comment), no double quote, not a netrc keyword, at most
/// [`LONGEST_TOKEN`] characters. Returns why `token` is not one, in words that never repeat it.
/// Every check of a token (set-token's, the CI exchanges', the writers of the token file and the
/// netrc) calls this and only words its sentence.
pub fn token_problem(token: &str) -> Option<&'static str> {
    if token.is_empty() {
        Some("it is empty")
    } else if token.chars().any(char::is_whitespace) {
        Some("it contains white space or a line break")
    } else if token.contains('#') {
        Some("it contains `#`, which Nix reads as the start of a comment")
    } else if token.chars().any(|c| c.is_control() || invisible(c)) {
        Some("it contains control or invisible characters")
    } else if token.contains('"') {
        Some("it contains a double quote")
    } else if token.len() > LONGEST_TOKEN {
        Some("it is longer than 4096 characters")
    } else if NETRC_KEYWORDS.iter().any(|k| token.eq_ignore_ascii_case(k)) {
        Some(
            "it is a netrc keyword (machine, default, login, password, account or macdef), which curl would read as one",
        )
    } else {
        None
    }
}

/// The markers a kind's format for Nix puts before a token, shown in masks and stripped as a form
/// a token travels in. A copy, for masking, of what the kinds say (GitLab's `PAT:` and `OAuth2:`,
/// `Forge::stored_markers` in `providers::gitlab`): this module sits below the providers, and a
/// test of `providers::kinds` checks that the two agree.
pub const STORED_MARKERS: &[&str] = &["PAT:", "OAuth2:"];

/// Known token prefixes, longest first, that say what kind of token it is without revealing it. A
/// copy, for masking and for telling a token from a host, of what the kinds say
/// (`Forge::token_prefixes`); a test of `providers::kinds` checks that the two agree.
pub const PREFIXES: &[&str] = &[
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
    mask_text(token.expose())
}

/// [`mask`] of a value that is not (or no longer) wrapped.
fn mask_text(t: &str) -> String {
    let mut shown = String::new();
    let mut rest = t;
    if let Some((scheme, credential)) = auth_scheme(t) {
        shown.push_str(scheme);
        shown.push(' ');
        rest = credential;
    }
    for marker in STORED_MARKERS {
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
    fn one_rule_says_what_a_token_is() {
        for bad in [
            "",
            "ghs_x\npost-build-hook = /tmp/evil.sh",
            "a b",
            "a\u{2028}b",
            "a\u{200b}b",
            "a\u{7}b",
            "ab#c",
            "a\"b",
            "Machine",
        ] {
            assert!(token_problem(bad).is_some(), "{bad:?}");
        }
        assert!(token_problem(&"x".repeat(LONGEST_TOKEN + 1)).is_some());
        for good in ["ghp_ok=", "PAT:glpat-abc", "eyJ.a-b_c.d"] {
            assert_eq!(token_problem(good), None, "{good}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from("ghp_supersecretvalue1234");
        assert_eq!(format!("{s:?}"), "Secret(REDACTED)");
    }

    #[test]
    fn known_secrets_are_masked_in_any_form_they_travel_in() {
        let token = Secret::from("ghp_scrubbedtoken0123456789abcdef");
        let _header = Secret::new(format!("token {}", token.expose()));
        let basic = Secret::from("Basic OnNjcnViYmVkY2FjaGVwYXNzd29yZA==");
        let _gitlab = Secret::from("PAT:glpat-scrubbedgitlab0123");
        let said = format!(
            "Bad credentials: token {} / {} / scrubbedcachepassword / glpat-scrubbedgitlab0123",
            token.expose(),
            basic.expose()
        );
        assert_eq!(
            scrub(&said),
            "Bad credentials: token ghp_****ef / Basic ****== / ****rd / glpat-****23"
        );
        let _short = Secret::from("abc");
        assert_eq!(scrub("abc Bearer"), "abc Bearer");
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
