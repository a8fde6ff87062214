//! Which stored token answers a git request, and as which user.
//!
//! A key `host/owner[/…]` answers a request for that host whose path starts with those path
//! segments; the longest such key wins, then the key for the host alone (what Nix 2.27 and later
//! do with `access-tokens`). Path segments compare without regard to case, as the forges treat
//! owner names. Plain `http` is answered only for a loopback host, so a token never crosses the
//! network unencrypted.

use super::protocol::Request;
use crate::http;
use crate::providers::forge::{Forge, GitAsk, plain_git_credential};
use crate::providers::kinds;
use crate::secret::Secret;

/// The host (lower case, with its port) and path a request may be answered for, or `None` when it
/// must fall through to git's next helper.
pub fn target(request: &Request) -> Option<(String, Option<String>)> {
    let host = request.host.as_deref()?.to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    if !http::scheme_may_carry_token(request.protocol.as_deref()?, &host) {
        return None;
    }
    let path = request
        .path
        .as_deref()
        .map(|p| p.trim_matches('/').to_owned())
        .filter(|p| !p.is_empty());
    Some((host, path))
}

/// The longest key among `keys` that covers `host` and `path`: the host alone, or the host and
/// leading segments of the path.
pub fn best_key<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    host: &str,
    path: Option<&str>,
) -> Option<&'a str> {
    let wanted: Vec<&str> = path
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mut best: Option<(&str, usize)> = None;
    for key in keys {
        let mut parts = key.split('/').filter(|s| !s.is_empty());
        if !parts.next().is_some_and(|h| h.eq_ignore_ascii_case(host)) {
            continue;
        }
        let segments: Vec<&str> = parts.collect();
        let covers = segments.len() <= wanted.len()
            && segments
                .iter()
                .zip(&wanted)
                .all(|(a, b)| a.eq_ignore_ascii_case(b));
        if covers && best.is_none_or(|(_, n)| segments.len() > n) {
            best = Some((key, segments.len()));
        }
    }
    best.map(|(k, _)| k)
}

/// The username and password git should send for `token` (as stored for Nix: GitLab's carry
/// `PAT:` or `OAuth2:`), in the form the forge accepts over HTTPS. A token in a kind's own format
/// is that kind's; else the host's kind (`forge`) decides, and without one the user git named,
/// the account the token belongs to, or the netrc login goes beside it.
pub fn credential(
    forge: Option<&dyn Forge>,
    token: &Secret<String>,
    git_user: Option<&str>,
    account: Option<&str>,
    netrc_login: Option<&str>,
) -> (String, Secret<String>) {
    let ask = GitAsk {
        git_user,
        account,
        netrc_login,
    };
    match kinds::claiming(token.expose()).or(forge) {
        Some(forge) => forge.git_credential(token, &ask),
        None => plain_git_credential(token, &ask),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(protocol: &str, host: &str, path: Option<&str>) -> Request {
        Request {
            protocol: Some(protocol.into()),
            host: Some(host.into()),
            path: path.map(Into::into),
            username: None,
        }
    }

    #[test]
    fn plain_http_only_for_this_machine() {
        assert!(target(&request("https", "GitHub.com", None)).is_some());
        assert_eq!(
            target(&request("https", "GitHub.com", Some("/o/r.git/"))),
            Some(("github.com".into(), Some("o/r.git".into())))
        );
        assert!(target(&request("http", "github.com", None)).is_none());
        assert!(target(&request("http", "127.0.0.1:8080", None)).is_some());
        assert!(target(&request("http", "[::1]:8080", None)).is_some());
        assert!(target(&request("http", "localhost", None)).is_some());
        assert!(target(&request("http", "localhost.evil.example", None)).is_none());
        assert!(target(&request("ssh", "github.com", None)).is_none());
        assert!(target(&Request::default()).is_none());
    }

    #[test]
    fn the_longest_owner_prefix_wins() {
        let keys = [
            "github.com",
            "github.com/work",
            "github.com/work/secret-team",
            "github.com/workshop",
            "gitlab.com/work",
        ];
        let best = |path| best_key(keys, "github.com", path);
        assert_eq!(best(None), Some("github.com"));
        assert_eq!(best(Some("work/repo.git")), Some("github.com/work"));
        assert_eq!(best(Some("Work/repo.git")), Some("github.com/work"));
        assert_eq!(
            best(Some("work/secret-team/repo.git")),
            Some("github.com/work/secret-team")
        );
        assert_eq!(best(Some("workshop/x.git")), Some("github.com/workshop"));
        // A prefix of a segment is not a match: `work` does not cover `workers`.
        assert_eq!(best(Some("workers/x.git")), Some("github.com"));
        assert_eq!(best(Some("me/dotfiles.git")), Some("github.com"));
        assert_eq!(best_key(keys, "gitlab.com", None), None);
        assert_eq!(
            best_key(keys, "gitlab.com", Some("work/x")),
            Some("gitlab.com/work")
        );
        assert_eq!(best_key(keys, "github.com:8443", Some("work/x")), None);
    }

    #[test]
    fn each_forge_gets_its_username() {
        use crate::providers::Kind;
        let cred = |kind: Option<Kind>, token: &str, git_user, account, login| {
            let forge = kind.map(Kind::forge);
            let (user, password) = credential(forge, &token.into(), git_user, account, login);
            (user, password.expose().clone())
        };
        assert_eq!(
            cred(Some(Kind::Github), "ghp_x", None, Some("octocat"), None),
            ("x-access-token".into(), "ghp_x".into())
        );
        assert_eq!(
            cred(Some(Kind::Github), "ghp_x", Some("me"), None, None),
            ("me".into(), "ghp_x".into())
        );
        assert_eq!(
            cred(Some(Kind::Gitlab), "OAuth2:abc", Some("me"), None, None),
            ("oauth2".into(), "abc".into())
        );
        assert_eq!(
            cred(
                Some(Kind::Gitlab),
                "PAT:glpat-x",
                None,
                Some("tanuki"),
                None
            ),
            ("tanuki".into(), "glpat-x".into())
        );
        assert_eq!(
            cred(Some(Kind::Gitlab), "PAT:glpat-x", None, None, None),
            ("oauth2".into(), "glpat-x".into())
        );
        assert_eq!(
            cred(
                Some(Kind::Gitea),
                "t",
                None,
                Some("forge-user"),
                Some("nix-tokens")
            ),
            ("forge-user".into(), "t".into())
        );
        assert_eq!(
            cred(Some(Kind::Forgejo), "t", None, None, Some("me")),
            ("me".into(), "t".into())
        );
        assert_eq!(
            cred(None, "t", None, None, None),
            ("nix-tokens".into(), "t".into())
        );
    }
}
