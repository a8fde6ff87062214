//! Which owners, repositories, refs and hosts of a `github:`, `gitlab:` or `sourcehut:` input
//! `check` asks a forge about: those Nix itself takes there, and that stay the one path segment
//! they are in Nix's flake reference `github:OWNER/REPO/REF`, so that a request with a token
//! goes to that repository's path and nowhere else on the host.
//!
//! Nix's own parser (`src/libfetchers/github.cc`, `GitArchiveInputScheme::inputFromAttrs`)
//! checks a `host` against `hostRegexS = "[a-zA-Z0-9.-]*"` and a `ref` with `isLegalRefName`
//! (`src/libfetchers/git-utils.cc`: libgit2's reference, branch and tag name rules, and not
//! `@`); it takes `owner` and `repo` as any string and pastes them into the API URL
//! (`https://HOST/api/v3/repos/%s/%s/…`, `…/api/v4/projects/%s%%2F%s/…`). A lock file can
//! therefore name an owner such as `%2e%2e`, which a URL parser folds into `..` (the WHATWG URL
//! standard, which the `url` crate follows), turning the question into a request for another
//! path. So an owner or repository is asked about only when each of its parts is made of the
//! characters RFC 3986 leaves unreserved (`unreservedRegex` in Nix's `url-parts.hh`:
//! `[a-zA-Z0-9-._~]`, which every forge's user, group and repository names are drawn from) and
//! is not `.` or `..`; a GitLab owner may name a subgroup with `%2F` between its parts, as Nix's
//! manual writes `gitlab:veloren%2Fdev/rfcs`.

/// Whether `text` is a plain name: not empty, not `.` or `..`, and only unreserved characters.
pub fn plain(text: &str) -> bool {
    !matches!(text, "" | "." | "..")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
}

/// Whether `owner` is an owner `fetcher` (`github`, `gitlab`, `sourcehut`) is asked about.
pub fn owner(fetcher: &str, owner: &str) -> bool {
    match fetcher {
        "gitlab" => split_subgroups(owner).all(plain),
        _ => plain(owner),
    }
}

/// A GitLab owner's parts: `group%2Fsub` is `group` and `sub`.
fn split_subgroups(owner: &str) -> impl Iterator<Item = &str> {
    owner.split("%2F").flat_map(|p| p.split("%2f"))
}

/// Whether `host` is what Nix's `hostRegexS` takes (and not empty, which names no host).
pub fn host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// Whether `name` is a branch or tag name Nix takes (`isLegalRefName`): git's
/// `check-ref-format` rules, as libgit2 applies them, and not `@`.
pub fn git_ref(name: &str) -> bool {
    let bad_char = |c: char| c.is_ascii_control() || " ~^:?*[\\".contains(c);
    name != "@"
        && !name.is_empty()
        && !name.chars().any(bad_char)
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_stay_one_segment() {
        for good in ["NixOS", "nix-community", "home_manager", "a.b", "~sircmpwn"] {
            assert!(owner("github", good), "{good}");
        }
        for bad in [
            "", ".", "..", "%2e%2e", ".%2e", "%2E", "a/b", "a%2Fb", "a?b", "a#b", "a b", "ä",
        ] {
            assert!(!owner("github", bad), "{bad}");
        }
        assert!(owner("gitlab", "group%2Fsub") && owner("gitlab", "group%2fsub%2Fdeeper"));
        assert!(!owner("gitlab", "group%2F..") && !owner("gitlab", "%2Fx"));
    }

    #[test]
    fn refs_as_git_takes_them() {
        for good in ["main", "nixos-unstable", "release/24.05", "v1.0", "a@b"] {
            assert!(git_ref(good), "{good}");
        }
        for bad in [
            "",
            "@",
            "../../user",
            "a..b",
            ".hidden",
            "a/.b",
            "x.lock",
            "a//b",
            "/a",
            "a/",
            "a.",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a@{1}",
            "a\u{7f}",
        ] {
            assert!(!git_ref(bad), "{bad:?}");
        }
    }

    #[test]
    fn hosts_as_nix_takes_them() {
        assert!(host("github.com") && host("git.example-corp.com"));
        assert!(!host("") && !host("h/x") && !host("h:8080") && !host("user@h"));
    }
}
