//! Which credential helpers git asks for a URL, read from its configuration as git reads it
//! (`credential.c`, `urlmatch.c`): every `credential.helper` and `credential.URL.helper` whose URL
//! matches, in the order of the configuration (git selects all matching entries, not the best
//! one), an empty value dropping the ones before it; and `useHttpPath`, which decides whether git
//! names the repository's path to the helpers.
//!
//! A `credential.URL` matches when its scheme is the URL's, its host has as many labels with `*`
//! standing for any run of characters in one, its port (or the scheme's default) is the URL's,
//! its path is empty or a whole-segment prefix of the URL's, and a user in it is the URL's user.
//! A `URL` without `://` matches nothing, as in git.

use reqwest::Url;

/// What git's configuration says about the credentials of one URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Helpers {
    /// The helpers git asks, in order, until one answers.
    pub list: Vec<String>,
    /// Whether git hands the helpers the repository's path (`credential.useHttpPath`).
    pub use_http_path: bool,
}

/// The helpers for `url` among `entries` (`key`, `value` as `git config --list` prints them:
/// section and name in lower case, the URL as written).
pub fn helpers_for(entries: &[(String, String)], url: &Url) -> Helpers {
    let mut out = Helpers::default();
    for (key, value) in entries {
        let Some(rest) = key.strip_prefix("credential.") else {
            continue;
        };
        let (pattern, name) = match rest.rsplit_once('.') {
            Some((pattern, name)) => (Some(pattern), name),
            None => (None, rest),
        };
        if pattern.is_some_and(|p| !matches(p, url)) {
            continue;
        }
        match name {
            "helper" if value.is_empty() => out.list.clear(),
            "helper" => out.list.push(value.clone()),
            "usehttppath" => out.use_http_path = is_true(value),
            _ => {}
        }
    }
    out
}

/// git's booleans; a key without a value (`--list` prints it empty) is true.
fn is_true(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "" | "true" | "yes" | "on" | "1"
    )
}

/// Whether the configuration URL `pattern` covers `url`.
pub fn matches(pattern: &str, url: &Url) -> bool {
    let Some((scheme, rest)) = pattern.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case(url.scheme()) {
        return false;
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user.split(':').next().unwrap_or(user)), host),
        None => (None, authority),
    };
    if user.is_some_and(|u| u != url.username()) {
        return false;
    }
    let path_matches = {
        let want = path.trim_end_matches('/');
        let have = url.path().trim_start_matches('/');
        want.is_empty() || have == want || have.starts_with(&format!("{want}/"))
    };
    // `https://` alone (no host) covers every host of the scheme.
    if host_port.is_empty() {
        return path_matches;
    }
    // `[::1]:8080`, `host:8080` or a bare host; a port that is not a number matches nothing.
    let (host, port) = match host_port.find(']') {
        Some(end) => (&host_port[..=end], host_port[end + 1..].strip_prefix(':')),
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port = match port.map(str::parse::<u16>) {
        Some(Ok(port)) => Some(port),
        Some(Err(_)) => return false,
        None => default_port(scheme),
    };
    let url_host = url.host_str().unwrap_or("");
    let port_matches = port == url.port_or_known_default();
    host_matches(host, url_host) && port_matches && path_matches
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// Host names compare label by label without regard to case; `*` in a label stands for any run
/// of characters within that label.
fn host_matches(pattern: &str, host: &str) -> bool {
    let want: Vec<String> = pattern.split('.').map(str::to_ascii_lowercase).collect();
    let have: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
    want.len() == have.len() && want.iter().zip(&have).all(|(w, h)| glob(w, h))
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (head.len()..=text.len())
                    .any(|i| text.is_char_boundary(i) && glob(tail, &text[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn urls_match_as_git_matches_them() {
        let repo = url("https://github.com/org/private.git");
        for yes in [
            "https://github.com",
            "https://GitHub.com/",
            "https://github.com:443",
            "https://github.com/org",
            "https://github.com/org/private.git",
            "https://*.com",
            "https://git*.com/org/",
            "https://",
        ] {
            assert!(matches(yes, &repo), "{yes}");
        }
        for no in [
            "http://github.com",
            "https://github.com:8443",
            "https://gist.github.com",
            "https://*.github.com",
            "https://github.com/organisation",
            "https://github.com/org/private.git/x",
            "github.com",
            "https://other@github.com",
            // A user in the configuration's URL must be the URL's, and this one names none.
            "https://git@github.com",
        ] {
            assert!(!matches(no, &repo), "{no}");
        }
        assert!(matches(
            "https://git@github.com",
            &url("https://git@github.com/o/r")
        ));
        let local = url("http://127.0.0.1:8080/o/r.git");
        assert!(matches("http://127.0.0.1:8080", &local));
        assert!(!matches("http://127.0.0.1", &local));
    }

    #[test]
    fn helpers_in_configuration_order_with_resets() {
        let entries: Vec<(String, String)> = [
            ("credential.helper", "cache"),
            ("user.name", "me"),
            ("credential.https://github.com.helper", ""),
            (
                "credential.https://github.com.helper",
                "!gh auth git-credential",
            ),
            ("credential.https://gitlab.com.helper", "store"),
            (
                "credential.https://github.com/org.helper",
                "!nix-tokens git-credential",
            ),
            ("credential.https://github.com.usehttppath", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let got = helpers_for(&entries, &url("https://github.com/org/app.git"));
        assert_eq!(
            got.list,
            ["!gh auth git-credential", "!nix-tokens git-credential"]
        );
        assert!(got.use_http_path);
        let other = helpers_for(&entries, &url("https://github.com/me/app.git"));
        assert_eq!(other.list, ["!gh auth git-credential"]);
        let gitlab = helpers_for(&entries, &url("https://gitlab.com/g/p.git"));
        assert_eq!(
            (gitlab.list, gitlab.use_http_path),
            (vec!["cache".into(), "store".into()], false)
        );
    }
}
