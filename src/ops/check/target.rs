//! What Nix fetches for one input of a lock file, and through which of its paths: its own
//! `github:`, `gitlab:` and `sourcehut:` fetchers (the forge's API, with `access-tokens`; hosts
//! default to github.com, gitlab.com and git.sr.ht as in `libfetchers/github.cc`), git (which
//! asks its credential helpers), or curl for a tarball or file (with netrc). The input's own
//! `original` attributes decide, since they are what `nix flake update` fetches again.

use reqwest::Url;
use serde_json::{Map, Value};

use super::lock::LockedInput;
use super::names;
use crate::secret::mask_url;
use crate::ui::printable;

/// How Nix reaches an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Nix's own fetcher `fetcher` (`github`, `gitlab`, `sourcehut`) asks `host`'s API about
    /// `owner/repo`, with the token `access-tokens` gives for `host/owner/repo`.
    Forge {
        fetcher: String,
        host: String,
        owner: String,
        repo: String,
    },
    /// git fetches `url`; `host` (lower case, with a port if the URL has one) and `path` (without
    /// slashes at the ends) are what git names in its credential request.
    Git {
        url: Url,
        host: String,
        path: String,
    },
    /// git over SSH, with the user's SSH keys.
    Ssh,
    /// Nix's curl downloads `url`, with the netrc entry for its host; an `archive` (a `tarball`
    /// input) is unpacked, a `file` is not.
    Download { url: Url, archive: bool },
    /// Listed, not checked, for the reason given.
    Skipped(String),
}

/// An input as `check` shows and checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The input as a flake reference (`github:NixOS/nixpkgs/nixos-unstable`), with any password
    /// in it masked.
    pub url: String,
    pub target: Target,
}

/// The host Nix's fetcher of `fetcher` uses when the input names none.
fn default_host(fetcher: &str) -> &'static str {
    match fetcher {
        "github" => "github.com",
        "gitlab" => "gitlab.com",
        _ => "git.sr.ht",
    }
}

fn text<'a>(attrs: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    attrs.get(key).and_then(Value::as_str)
}

/// How Nix fetches `input`.
pub fn of(input: &LockedInput) -> Fetch {
    let attrs = &input.original;
    let url = display(attrs);
    let kind = input.kind();
    let target = match kind {
        "github" | "gitlab" | "sourcehut" => forge(kind, attrs, &input.locked),
        "git" => git(attrs),
        "tarball" | "file" => download(attrs, kind == "tarball"),
        "path" => Target::Skipped("a local path: not checked".into()),
        "indirect" => Target::Skipped(format!(
            "an indirect input: `nix flake update` looks `{}` up in the flake registry (locked to {}): not checked",
            printable(text(attrs, "id").unwrap_or("")),
            display(&input.locked)
        )),
        other => Target::Skipped(format!("a {} input: not checked", printable(other))),
    };
    Fetch { url, target }
}

fn forge(fetcher: &str, attrs: &Map<String, Value>, locked: &Map<String, Value>) -> Target {
    let get = |key| text(attrs, key).or_else(|| text(locked, key));
    let (Some(owner), Some(repo)) = (get("owner"), get("repo")) else {
        return Target::Skipped(format!(
            "the lock names no owner and repository for this {fetcher} input"
        ));
    };
    let host = get("host").unwrap_or(default_host(fetcher));
    // What Nix takes there, and stays one path segment of the request (see `names`): an owner
    // such as `%2e%2e` would take an authenticated request to another path on the host.
    let ref_ok = text(attrs, "ref").is_none_or(names::git_ref);
    if !names::host(host) || !names::owner(fetcher, owner) || !names::plain(repo) || !ref_ok {
        return Target::Skipped(
            "the lock names an invalid host, owner, repository or ref, one Nix would not fetch or that leaves its place in the URL: nothing was asked"
                .into(),
        );
    }
    Target::Forge {
        fetcher: fetcher.to_owned(),
        host: host.to_owned(),
        owner: owner.to_owned(),
        repo: repo.to_owned(),
    }
}

fn git(attrs: &Map<String, Value>) -> Target {
    let Some(text) = text(attrs, "url") else {
        return Target::Skipped("the lock names no URL for this git input".into());
    };
    // scp-like `git@host:owner/repo` is SSH too.
    let Ok(url) = Url::parse(text) else {
        return match text.contains('@') && text.contains(':') {
            true => Target::Ssh,
            false => Target::Skipped("its URL is not one nix-tokens can read: not checked".into()),
        };
    };
    match (url.scheme(), url.host_str()) {
        ("ssh", _) => Target::Ssh,
        ("https" | "http", Some(host)) => {
            let host = match url.port() {
                Some(port) => format!("{}:{port}", host.to_ascii_lowercase()),
                None => host.to_ascii_lowercase(),
            };
            let path = url.path().trim_matches('/').to_owned();
            Target::Git { url, host, path }
        }
        ("file", _) => Target::Skipped("a local git repository: not checked".into()),
        (scheme, _) => Target::Skipped(format!("git over {}: not checked", printable(scheme))),
    }
}

fn download(attrs: &Map<String, Value>, archive: bool) -> Target {
    let url = text(attrs, "url").and_then(|u| Url::parse(u).ok());
    match url {
        Some(url) if matches!(url.scheme(), "https" | "http") && url.host_str().is_some() => {
            Target::Download { url, archive }
        }
        Some(url) if url.scheme() == "file" => Target::Skipped("a local file: not checked".into()),
        _ => Target::Skipped("its URL is not an http(s) URL: not checked".into()),
    }
}

/// `attrs` as the flake reference a person writes, such as `github:NixOS/nixpkgs/nixos-unstable`
/// or `git+https://host/o/r?ref=main`, with the credentials in a URL masked.
pub fn display(attrs: &Map<String, Value>) -> String {
    let get = |key| text(attrs, key).unwrap_or("");
    let kind = get("type");
    let shown = match kind {
        "github" | "gitlab" | "sourcehut" => {
            let mut out = format!("{kind}:{}/{}", get("owner"), get("repo"));
            if let Some(r) = text(attrs, "ref").or_else(|| text(attrs, "rev")) {
                out.push('/');
                out.push_str(r);
            }
            if let Some(host) = text(attrs, "host") {
                out.push_str(&format!("?host={host}"));
            }
            out
        }
        "git" => {
            let mut out = format!("git+{}", mask_url(get("url")));
            let query: Vec<String> = ["ref", "rev"]
                .into_iter()
                .filter_map(|k| text(attrs, k).map(|v| format!("{k}={v}")))
                .collect();
            if !query.is_empty() {
                out.push(if out.contains('?') { '&' } else { '?' });
                out.push_str(&query.join("&"));
            }
            out
        }
        "tarball" => mask_url(get("url")),
        "file" => format!("file+{}", mask_url(get("url"))),
        "path" => format!("path:{}", get("path")),
        "indirect" => match text(attrs, "ref") {
            Some(r) => format!("flake:{}/{r}", get("id")),
            None => format!("flake:{}", get("id")),
        },
        other => format!("{other}:{}", mask_url(get("url"))),
    };
    printable(&shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(original: Value) -> LockedInput {
        let locked = json!({"type": "github", "owner": "NixOS", "repo": "nixpkgs", "rev": "abc"});
        LockedInput {
            name: "x".into(),
            original: original.as_object().unwrap().clone(),
            locked: locked.as_object().unwrap().clone(),
        }
    }

    fn fetch(original: Value) -> (String, Target) {
        let f = of(&input(original));
        (f.url, f.target)
    }

    #[test]
    fn forges_with_their_default_hosts() {
        let (url, target) = fetch(
            json!({"type": "github", "owner": "NixOS", "repo": "nixpkgs",
                                          "ref": "nixos-unstable"}),
        );
        assert_eq!(url, "github:NixOS/nixpkgs/nixos-unstable");
        assert_eq!(
            target,
            Target::Forge {
                fetcher: "github".into(),
                host: "github.com".into(),
                owner: "NixOS".into(),
                repo: "nixpkgs".into()
            }
        );
        let (url, target) = fetch(
            json!({"type": "gitlab", "owner": "group%2Fsub", "repo": "p",
                                          "host": "gitlab.example.com"}),
        );
        assert_eq!(url, "gitlab:group%2Fsub/p?host=gitlab.example.com");
        assert!(matches!(target, Target::Forge { host, owner, .. }
            if host == "gitlab.example.com" && owner == "group%2Fsub"));
        for (owner, repo, host) in [
            ("..", "x", "h"),
            ("o", "a/b", "h"),
            ("o", "r?x", "h"),
            ("o", "r", "h/x"),
        ] {
            let f = fetch(json!({"type": "github", "owner": owner, "repo": repo, "host": host}));
            assert!(
                matches!(f.1, Target::Skipped(_)),
                "{owner}/{repo} on {host}"
            );
        }
        let (url, target) =
            fetch(json!({"type": "sourcehut", "owner": "~sircmpwn", "repo": "aerc"}));
        assert_eq!(url, "sourcehut:~sircmpwn/aerc");
        assert!(matches!(target, Target::Forge { host, .. } if host == "git.sr.ht"));
    }

    #[test]
    fn git_over_https_ssh_and_files() {
        let (url, target) = fetch(
            json!({"type": "git", "url": "https://GitHub.com:8443/org/private.git",
                                          "ref": "main"}),
        );
        assert_eq!(url, "git+https://GitHub.com:8443/org/private.git?ref=main");
        assert!(matches!(target, Target::Git { host, path, .. }
            if host == "github.com:8443" && path == "org/private.git"));
        for ssh in ["ssh://git@github.com/o/r.git", "git@github.com:o/r.git"] {
            assert_eq!(
                fetch(json!({"type": "git", "url": ssh})).1,
                Target::Ssh,
                "{ssh}"
            );
        }
        assert!(matches!(
            fetch(json!({"type": "git", "url": "file:///src/r"})).1,
            Target::Skipped(_)
        ));
        let (url, _) = fetch(json!({"type": "git", "url": "https://me:hunter2@git.example/r.git"}));
        assert_eq!(url, "git+https://me:****@git.example/r.git");
    }

    #[test]
    fn downloads_paths_and_indirect_inputs() {
        let (url, target) = fetch(json!({"type": "tarball", "url": "https://h.example/a.tar.gz"}));
        assert_eq!(url, "https://h.example/a.tar.gz");
        assert!(matches!(target, Target::Download { .. }));
        let (url, _) = fetch(json!({"type": "file", "url": "https://h.example/a.json"}));
        assert_eq!(url, "file+https://h.example/a.json");
        let (url, target) = fetch(json!({"type": "path", "path": "/src/dep"}));
        assert_eq!(url, "path:/src/dep");
        assert_eq!(target, Target::Skipped("a local path: not checked".into()));
        let (url, target) = fetch(json!({"type": "indirect", "id": "nixpkgs"}));
        assert_eq!(url, "flake:nixpkgs");
        let Target::Skipped(why) = target else {
            panic!()
        };
        assert!(
            why.contains("flake registry (locked to github:NixOS/nixpkgs/abc)"),
            "{why}"
        );
        assert!(matches!(
            fetch(json!({"type": "hg", "url": "https://h/r"})).1,
            Target::Skipped(_)
        ));
        assert!(matches!(
            fetch(json!({"type": "tarball", "url": "file:///a.tgz"})).1,
            Target::Skipped(_)
        ));
    }
}
