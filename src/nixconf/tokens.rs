//! The `access-tokens` value: `KEY=TOKEN` pairs, and the rules for what a key and a token may be.
//!
//! Nix splits the value on white space and each pair at its first `=`; a pair without `=` is
//! dropped, and within one value the first pair for a key wins (REFERENCE.md §2). A later
//! `access-tokens` replaces the whole map; `extra-access-tokens` only adds keys not yet set.

use crate::error::{Error, Result};
use crate::secret::{Secret, kind_prefix};

pub const ACCESS_TOKENS: &str = "access-tokens";
pub const EXTRA_ACCESS_TOKENS: &str = "extra-access-tokens";

/// An ordered map from key (`host` or `host/path`) to token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenMap {
    entries: Vec<(String, Secret<String>)>,
}

impl TokenMap {
    /// Reads one `access-tokens` value as Nix does.
    pub fn parse(value: &str) -> Self {
        let mut map = TokenMap::default();
        for pair in value
            .split([' ', '\t', '\r', '\n'])
            .filter(|p| !p.is_empty())
        {
            if let Some((key, token)) = pair.split_once('=') {
                map.insert_if_absent(key, Secret::from(token));
            }
        }
        map
    }

    /// The value to write after `access-tokens =`.
    pub fn render(&self) -> Secret<String> {
        let pairs: Vec<String> = self
            .entries
            .iter()
            .map(|(k, t)| format!("{k}={}", t.expose()))
            .collect();
        Secret::new(pairs.join(" "))
    }

    /// Applies one setting line as Nix does: `access-tokens` replaces, `extra-access-tokens` adds.
    /// Returns false for any other setting.
    pub fn apply(&mut self, name: &str, value: &str) -> bool {
        match name {
            ACCESS_TOKENS => *self = TokenMap::parse(value),
            EXTRA_ACCESS_TOKENS => {
                for (k, t) in TokenMap::parse(value).entries {
                    self.insert_if_absent(&k, t);
                }
            }
            _ => return false,
        }
        true
    }

    pub fn get(&self, key: &str) -> Option<&Secret<String>> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, t)| t)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, keeping its place if it was already there. Returns the token it replaced.
    pub fn insert(&mut self, key: &str, token: Secret<String>) -> Option<Secret<String>> {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => Some(std::mem::replace(&mut slot.1, token)),
            None => {
                self.entries.push((key.to_owned(), token));
                None
            }
        }
    }

    pub fn insert_if_absent(&mut self, key: &str, token: Secret<String>) {
        if !self.contains(key) {
            self.entries.push((key.to_owned(), token));
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Secret<String>> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret<String>)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }
}

/// Turns what the user typed for a host (`github.com`, `https://GitHub.com/`, `github.com/my-org`)
/// into the key Nix matches: no scheme, no trailing slash, the host part in lower case.
pub fn normalize_key(input: &str) -> Result<String> {
    let trimmed = input.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let without_slash = without_scheme.trim_end_matches('/');
    let (host, path) = match without_slash.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (without_slash, None),
    };
    // The argument may hold a token pasted by mistake, so it is never repeated.
    let bad = |what: &str| {
        Error::usage(format!(
            "the host argument is not valid: {what}; give a host such as github.com or github.com/my-org"
        ))
    };
    if looks_like_token(trimmed) || token_shaped(without_slash) {
        return Err(bad(
            "it looks like a token (the host comes first, and the token is best piped on standard input)",
        ));
    }
    if host.is_empty() {
        return Err(bad("it is empty"));
    }
    if without_slash
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '=' || c == '#')
    {
        return Err(bad("it contains white space, `=` or `#`"));
    }
    if host.contains(['@', '?', '"', '\\']) {
        return Err(bad(
            "a host cannot contain `@` (no user or token in it), `?`, quotes or backslashes",
        ));
    }
    let mut key = host.to_ascii_lowercase();
    if let Some(path) = path {
        key.push('/');
        key.push_str(path);
    }
    Ok(key)
}

/// Whether `text` starts like a token of a known kind (`ghp_`, `glpat-`, `github_pat_`, …).
pub fn looks_like_token(text: &str) -> bool {
    kind_prefix(text).is_some()
}

/// Dotless names shorter than this are host names (`localhost`, `gitea`, `my-git-server`).
const MIN_TOKEN_LEN: usize = 20;

/// Whether `key` (an `access-tokens` key or a netrc machine) is a token rather than a host; see
/// [`super::pasted`] for the rules.
pub fn token_shaped(key: &str) -> bool {
    if key
        .split([':', '@'])
        .any(|part| kind_prefix(part).is_some())
    {
        return true;
    }
    random_word(host_without_port(key_host(key)))
}

/// A long word without a dot that is not a host name anyone would choose.
fn random_word(name: &str) -> bool {
    if name.len() < MIN_TOKEN_LEN || name.contains('.') || name.starts_with('[') {
        return false;
    }
    let valid_host = name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid_host {
        return true;
    }
    let count = |f: fn(&u8) -> bool| name.bytes().filter(&f).count();
    let (upper, lower) = (count(u8::is_ascii_uppercase), count(u8::is_ascii_lowercase));
    let digits = count(u8::is_ascii_digit);
    (upper > 0 && lower > 0 && digits > 0) || (digits * 4 >= name.len() && upper + lower > 0)
}

/// The host part of a key (`github.com` for `github.com/my-org`).
pub fn key_host(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// The one host filter of `status`, `refresh` and the expiry warnings: whether `key` is among
/// `wanted` (every key when none is wanted), named exactly or lying under a wanted host or owner
/// (`github.com` covers `github.com/my-org`; `gitlab.com/group` covers `gitlab.com/group/sub`).
pub fn key_wanted(key: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            key == w
                || key
                    .strip_prefix(w.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}

/// The host name alone, without a `:port`: what curl matches a netrc `machine` against.
pub fn host_without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Why a netrc keyword cannot be a value: curl would read it as the keyword.
const NETRC_KEYWORD: &str = "it is a netrc keyword (machine, default, login, password, account or macdef), which curl would read as one";

/// Refuses a host that cannot stand after `machine` in a netrc: a netrc keyword.
pub fn check_netrc_host(host: &str) -> Result<()> {
    if super::netrc::is_keyword(host) {
        return Err(Error::usage(format!(
            "the host {host} cannot go in a netrc: {NETRC_KEYWORD}; give the host's full name"
        )));
    }
    Ok(())
}

/// Refuses a netrc login curl would misread: empty, with white space, `#`, quotes or control
/// characters, or a netrc keyword.
pub fn check_login(login: &str) -> Result<()> {
    if super::netrc::is_keyword(login) {
        return Err(Error::usage(format!(
            "the netrc login {login} was refused: {NETRC_KEYWORD}; pass --login with another name"
        )));
    }
    let bad = login.is_empty()
        || login
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#' || c == '"');
    if bad {
        return Err(Error::usage(
            "the netrc login must be one word without `#` or quotes; pass --login USER",
        ));
    }
    Ok(())
}

/// Refuses a token Nix could not store or would misread ([`crate::secret::token_problem`], the
/// one rule for every token), in the words for a token the user gave. The message never repeats
/// the token.
pub fn check_token(token: &Secret<String>, host: &str) -> Result<()> {
    match crate::secret::token_problem(token.expose()) {
        Some(p) => Err(Error::usage(format!(
            "the token for {host} was refused: {p}; copy the token again without extra characters"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_filter_picks_keys_by_host_or_owner() {
        let wanted = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(key_wanted("github.com", &[]));
        let hosts = wanted(&["github.com", "gitlab.com/group"]);
        for key in [
            "github.com",
            "github.com/my-org",
            "gitlab.com/group",
            "gitlab.com/group/sub",
        ] {
            assert!(key_wanted(key, &hosts), "{key}");
        }
        for key in [
            "github.com.evil.example",
            "github.community",
            "gitlab.com",
            "gitlab.com/groupie",
            "gitlab.com/other",
            "example.org",
        ] {
            assert!(!key_wanted(key, &hosts), "{key}");
        }
    }

    fn keys(m: &TokenMap) -> Vec<&str> {
        m.keys().collect()
    }

    #[test]
    fn parses_like_nix() {
        let m = TokenMap::parse("a.com=1 junk b.com=x=y a.com=2");
        assert_eq!(keys(&m), ["a.com", "b.com"]);
        assert_eq!(m.get("a.com").unwrap().expose(), "1");
        assert_eq!(m.get("b.com").unwrap().expose(), "x=y");
    }

    #[test]
    fn access_tokens_replaces_and_extra_adds() {
        let mut m = TokenMap::parse("a=1 b=2");
        m.apply(EXTRA_ACCESS_TOKENS, "b=3 c=4");
        assert_eq!(m.get("b").unwrap().expose(), "2");
        assert_eq!(keys(&m), ["a", "b", "c"]);
        m.apply(ACCESS_TOKENS, "d=5");
        assert_eq!(keys(&m), ["d"]);
        assert!(!m.apply("netrc-file", "/x"));
    }

    #[test]
    fn keys_are_normalized() {
        assert_eq!(normalize_key("https://GitHub.com/").unwrap(), "github.com");
        assert_eq!(
            normalize_key("github.com/My-Org").unwrap(),
            "github.com/My-Org"
        );
        assert!(normalize_key("a=b").is_err());
        assert!(normalize_key("").is_err());
        assert!(normalize_key("a b").is_err());
        assert!(normalize_key("x#y").is_err());
    }

    #[test]
    fn a_pasted_token_in_the_host_is_not_repeated() {
        for pasted in [
            "github.com=ghp_secretsecret",
            "https://oauth2:glpat-secretsecret@gitlab.com",
            "gitlab.com glpat-secretsecret",
            "ghp_secretsecret",
        ] {
            let err = normalize_key(pasted).unwrap_err().to_string();
            assert!(!err.contains("secretsecret"), "{err}");
        }
    }

    #[test]
    fn a_token_shaped_host_is_refused() {
        for pasted in [
            "0123456789abcdef0123456789abcdef01234567",
            "https://oauth2:glpat-secretsecret@gitlab.com",
        ] {
            let err = normalize_key(pasted).unwrap_err().to_string();
            assert!(err.contains("looks like a token"), "{err}");
        }
        assert!(normalize_key("my-git-server").is_ok());
        assert!(normalize_key("git.example.com:8443/ghp_owner").is_ok());
    }

    #[test]
    fn ports_and_logins() {
        assert_eq!(host_without_port("git.example.com:8443"), "git.example.com");
        assert_eq!(host_without_port("git.example.com"), "git.example.com");
        assert!(check_login("me").is_ok());
        for bad in ["", "a b", "a#b", "a\"b"] {
            assert!(check_login(bad).is_err());
        }
    }

    #[test]
    fn only_nix_white_space_separates_pairs() {
        let m = TokenMap::parse("a=1\u{a0}b=2\tc=3");
        assert_eq!(keys(&m), ["a", "c"]);
        assert_eq!(m.get("a").unwrap().expose(), "1\u{a0}b=2");
    }

    #[test]
    fn bad_tokens_are_refused_without_echo() {
        for bad in ["", "a b", "a\nb", "ab#c", "a\u{7}b", "a\"b"] {
            let err = check_token(&bad.into(), "h").unwrap_err().to_string();
            assert!(err.contains("refused"), "{err}");
            if bad.len() > 2 {
                assert!(!err.contains(bad));
            }
        }
        assert!(check_token(&"ghp_ok=".into(), "h").is_ok());
    }
}
