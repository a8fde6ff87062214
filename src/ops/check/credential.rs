//! The credential Nix will send for each input, by the rules Nix itself applies, from what
//! `status` and `git-credential` read too (`nixconf::view`):
//! - `github:`, `gitlab:`, `sourcehut:`: the `access-tokens` key for `HOST/OWNER/REPO` — on a Nix
//!   that matches owner keys (`nixconf::nix_version`), the longest key that is the start of it
//!   byte for byte and ends at a `/` (`libfetchers/github.cc`), else the host's key;
//! - git: the helpers git's configuration names for the URL (`gitcred::urlmatch`), and when
//!   nix-tokens is one of them, the token it answers with (`ops::git_credential::answering`);
//! - a download: the netrc entry curl sends for the host (its `machine`, else `default`).

use std::path::PathBuf;

use reqwest::Url;

use super::target::Target;
use crate::gitcred::answer::best_key;
use crate::gitcred::gitconfig::is_nix_tokens;
use crate::gitcred::urlmatch::helpers_for;
use crate::nixconf::netrc::Netrc;
use crate::nixconf::nix_version::NixVersion;
use crate::nixconf::tokens::key_host;
use crate::nixconf::view::SeenToken;
use crate::ops::git_credential::{Answered, answering};
use crate::secret::Secret;

/// What Nix and git will read: the tokens Nix uses, its netrc, which Nix it is, and git's
/// configuration (or why it could not be read).
pub struct Seen {
    pub tokens: Vec<SeenToken>,
    pub netrc: Option<Netrc>,
    pub netrc_path: PathBuf,
    /// `None` when `nix --version` did not answer: then owner keys count as used, as by every
    /// Nix since 2.27.
    pub nix: Option<NixVersion>,
    pub git: Result<Vec<(String, String)>, String>,
}

impl Seen {
    fn owner_keys(&self) -> bool {
        self.nix.as_ref().is_none_or(NixVersion::matches_owner_keys)
    }
}

/// How nix-tokens stands in git's helpers for a git input's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Helper {
    /// Not a git input.
    NotGit,
    /// git asks nix-tokens (after `before` other helpers) with the helper command `value`, naming
    /// the repository's path when `use_http_path`.
    Asked {
        before: usize,
        value: String,
        use_http_path: bool,
    },
    /// git never asks nix-tokens for this URL.
    NotAsked,
    /// git's configuration could not be read.
    Unknown,
}

/// The credential Nix (or its git, or its curl) will send for one input.
#[derive(Debug, Clone)]
pub struct Credential {
    pub token: Option<Secret<String>>,
    /// What the token is stored under: the access-tokens key, or `netrc machine NAME`.
    pub key: Option<String>,
    pub source: Option<PathBuf>,
    /// The netrc login curl sends beside the password.
    pub login: Option<String>,
    pub helper: Helper,
    /// For a git input git does not ask nix-tokens for: whether nix-tokens has a token for it.
    pub could_answer: bool,
    /// Why nix-tokens does not send this credential itself, though Nix will (netrc's `default`
    /// entry, which curl sends to any host; a password for plain http): the input is asked
    /// about without it.
    pub withheld: Option<&'static str>,
    /// How it was chosen, where that is worth saying (an owner key Nix does not use, …).
    pub notes: Vec<String>,
}

impl Credential {
    fn none(helper: Helper) -> Self {
        Credential {
            token: None,
            key: None,
            source: None,
            login: None,
            helper,
            could_answer: false,
            withheld: None,
            notes: Vec::new(),
        }
    }

    fn from_key(seen: &SeenToken, helper: Helper) -> Self {
        Credential {
            token: Some(seen.token.clone()),
            key: Some(seen.key.clone()),
            source: Some(seen.file.clone()),
            ..Credential::none(helper)
        }
    }
}

/// The `access-tokens` key Nix uses for `host/owner/repo`: with `owner_keys`, the longest key that
/// starts it exactly and ends at a `/` or at its end; else the key that is the host.
pub fn nix_key<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    host: &str,
    owner: &str,
    repo: &str,
    owner_keys: bool,
) -> Option<&'a str> {
    let keys: Vec<&str> = keys.into_iter().collect();
    if !owner_keys {
        return keys.into_iter().find(|k| *k == host);
    }
    let url = format!("{host}/{owner}/{repo}");
    let exact = keys.into_iter().filter(|k| {
        url.starts_with(*k) && matches!(url.as_bytes().get(k.len()), None | Some(b'/'))
    });
    best_key(exact, host, Some(&format!("{owner}/{repo}")))
}

/// The credential Nix will send for `target`.
pub fn for_target(target: &Target, seen: &Seen) -> Credential {
    match target {
        Target::Forge {
            host, owner, repo, ..
        } => forge(seen, host, owner, repo),
        Target::Git { url, host, path } => git(seen, url, host, path),
        Target::Download { url, .. } => download(seen, url),
        Target::Ssh | Target::Skipped(_) => Credential::none(Helper::NotGit),
    }
}

fn forge(seen: &Seen, host: &str, owner: &str, repo: &str) -> Credential {
    let keys = || seen.tokens.iter().map(|t| t.key.as_str());
    let chosen = nix_key(keys(), host, owner, repo, seen.owner_keys());
    let mut credential = match chosen.and_then(|k| seen.tokens.iter().find(|t| t.key == k)) {
        Some(token) => Credential::from_key(token, Helper::NotGit),
        None => Credential::none(Helper::NotGit),
    };
    // The key the forge (and the git helper) would take, ignoring case and Nix's version.
    let loose = best_key(keys(), host, Some(&format!("{owner}/{repo}")));
    if let Some(unused) = loose.filter(|k| k.contains('/') && Some(*k) != chosen) {
        credential.notes.push(match seen.nix.as_ref().and_then(|n| n.owner_key_unused(unused)) {
            Some(why) => why,
            None => format!(
                "Nix compares {host}/{owner}/{repo} with access-tokens keys exactly, case included, so it does not use the token for {unused}"
            ),
        });
    }
    credential
}

fn git(seen: &Seen, url: &Url, host: &str, path: &str) -> Credential {
    let entries = match &seen.git {
        Ok(entries) => entries,
        Err(why) => {
            let mut credential = Credential::none(Helper::Unknown);
            credential.notes.push(why.clone());
            return credential;
        }
    };
    let helpers = helpers_for(entries, url);
    let named = helpers.use_http_path.then_some(path);
    let answered = answering(&seen.tokens, seen.netrc.as_ref(), host, named);
    let Some(before) = helpers.list.iter().position(|h| is_nix_tokens(h)) else {
        let mut credential = Credential::none(Helper::NotAsked);
        credential.could_answer = answered.is_some();
        return credential;
    };
    let helper = Helper::Asked {
        before,
        value: helpers.list[before].clone(),
        use_http_path: helpers.use_http_path,
    };
    let mut credential = match answered {
        // nix-tokens answers plain http only for this machine.
        _ if !crate::http::scheme_may_carry_token(url.scheme(), host) => {
            let mut c = Credential::none(helper);
            c.notes
                .push("nix-tokens' helper answers no plain http request to another machine".into());
            c
        }
        Some(Answered::Key(token)) => Credential::from_key(token, helper),
        Some(Answered::Netrc(entry)) => Credential {
            token: entry.password.clone(),
            key: entry.machine.as_ref().map(|m| format!("netrc machine {m}")),
            source: Some(seen.netrc_path.clone()),
            ..Credential::none(helper)
        },
        None => Credential::none(helper),
    };
    if before > 0 {
        credential.notes.push(format!(
            "git asks {before} other credential helper(s) first, and one that answers wins"
        ));
    }
    let with_path = best_key(seen.tokens.iter().map(|t| t.key.as_str()), host, Some(path));
    if !helpers.use_http_path
        && let Some(owner_key) = with_path.filter(|k| k.contains('/') && key_host(k) == host)
    {
        credential.notes.push(format!(
            "git names no repository to its helpers for {host} (credential.useHttpPath is off), so the token for {owner_key} is not used; `nix-tokens git-credential --install` turns it on"
        ));
    }
    credential
}

fn download(seen: &Seen, url: &Url) -> Credential {
    let host = url.host_str().unwrap_or("");
    let entry = seen.netrc.as_ref().and_then(|n| n.for_curl(host));
    let Some(entry) = entry.filter(|e| e.password.is_some()) else {
        return Credential::none(Helper::NotGit);
    };
    let mut credential = Credential {
        token: entry.password.clone(),
        key: Some(match &entry.machine {
            Some(m) => format!("netrc machine {m}"),
            None => "netrc default".to_owned(),
        }),
        source: Some(seen.netrc_path.clone()),
        login: entry.login.clone(),
        ..Credential::none(Helper::NotGit)
    };
    if let Some(login) = &entry.login {
        credential
            .notes
            .push(format!("netrc login {}", crate::ui::printable(login)));
    }
    credential.withheld = if entry.machine.is_none() {
        Some("curl sends netrc's `default` entry to any host, and nix-tokens sends it to none")
    } else if !crate::http::may_carry_token(url) {
        Some("plain http: nix-tokens sends no netrc password over it (Nix's curl does)")
    } else {
        None
    };
    credential
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nix_picks_the_longest_exact_prefix_or_the_host() {
        let keys = [
            "github.com",
            "github.com/Work",
            "github.com/work",
            "github.com/work/secret",
            "github.com/workshop",
            "gitlab.com/work",
        ];
        let nix = |owner, repo, owner_keys| nix_key(keys, "github.com", owner, repo, owner_keys);
        assert_eq!(nix("work", "app", true), Some("github.com/work"));
        assert_eq!(nix("Work", "app", true), Some("github.com/Work"));
        assert_eq!(nix("WORK", "app", true), Some("github.com"));
        assert_eq!(nix("work", "secret", true), Some("github.com/work/secret"));
        assert_eq!(nix("work", "secrets", true), Some("github.com/work"));
        assert_eq!(nix("workers", "x", true), Some("github.com"));
        assert_eq!(nix("work", "app", false), Some("github.com"));
        assert_eq!(nix_key(keys, "gitlab.com", "work", "x", false), None);
        assert_eq!(
            nix_key(keys, "gitlab.com", "work", "x", true),
            Some("gitlab.com/work")
        );
        assert_eq!(nix_key(keys, "GitHub.com", "work", "x", true), None);
    }
}
