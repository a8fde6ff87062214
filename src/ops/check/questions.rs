//! Which question to ask about each input, or its verdict when it needs none: the forge's API
//! for a `github:`, `gitlab:` or `sourcehut:` input (at the base URL remembered for the host, else
//! `https://HOST`); for a git input the API of its host's kind where nix-tokens knows it (the
//! remembered provider, else the one whose default host it is), with `git ls-remote` where the API
//! cannot say, else `git ls-remote` alone; a `HEAD` for a download (with its netrc entry, unless
//! that is withheld). Nix 2.8's `github:` fetcher
//! cannot reach a GitHub Enterprise Server at all, which needs no question.

use super::credential::{Credential, Helper, Seen};
use super::git::GitAsk;
use super::names;
use super::probe::Ask;
use super::target::{Fetch, Target};
use super::verdict::Judged;
use crate::error::Error;
use crate::http;
use crate::nixconf::hosts::Hosts;
use crate::ops::statuses::InputVerdict;
use crate::providers::Registry;

/// The question to ask about `fetch`, or its verdict when it needs none.
pub fn ask_for(
    fetch: &Fetch,
    credential: &Credential,
    seen: &Seen,
    registry: &Registry,
    remembered: &Hosts,
) -> (Option<Ask>, Option<Judged>) {
    match &fetch.target {
        Target::Forge {
            fetcher,
            host,
            owner,
            repo,
        } => forge(
            seen,
            registry,
            remembered,
            credential,
            [fetcher, host, owner, repo],
        ),
        Target::Git { url, host, path } => {
            let (helper, use_http_path) = match &credential.helper {
                Helper::Asked {
                    value,
                    use_http_path,
                    ..
                } => (Some(value.clone()), *use_http_path),
                _ => (None, false),
            };
            let git = GitAsk {
                url: url.clone(),
                helper,
                use_http_path,
            };
            let origin = format!("{}://{host}", url.scheme());
            let owner_repo = path
                .trim_end_matches(".git")
                .rsplit_once('/')
                .filter(|(o, r)| o.split('/').all(names::plain) && names::plain(r));
            let api = registry
                .serving(host, remembered)
                .cloned()
                .zip(owner_repo)
                .zip(base(remembered, host, Some(origin)).ok());
            let ask = match api {
                Some(((provider, (owner, repo)), base)) => Ask::Api {
                    provider: Box::new(provider),
                    host: host.clone(),
                    base,
                    owner: owner.to_owned(),
                    repo: repo.to_owned(),
                    token: credential.token.clone(),
                    or_git: Some(git),
                },
                None => Ask::Git(git),
            };
            (Some(ask), None)
        }
        Target::Download { url, archive } => {
            let login = credential.login.clone().unwrap_or_default();
            let basic = match credential.withheld {
                Some(_) => None,
                None => credential.token.clone().map(|t| (login, t)),
            };
            let (url, archive) = (url.clone(), *archive);
            (
                Some(Ask::Download {
                    url,
                    basic,
                    archive,
                }),
                None,
            )
        }
        Target::Ssh | Target::Skipped(_) => (None, None),
    }
}

/// The question about a `github:`, `gitlab:` or `sourcehut:` input, asked of the API of the
/// fetcher's own kind, as Nix does.
fn forge(
    seen: &Seen,
    registry: &Registry,
    remembered: &Hosts,
    credential: &Credential,
    [fetcher, host, owner, repo]: [&String; 4],
) -> (Option<Ask>, Option<Judged>) {
    if let Some(nix) = &seen.nix
        && fetcher == "github"
        && host != "github.com"
        && !nix.reaches_github_enterprise()
    {
        let why = format!(
            "the installed {} asks https://api.{host}/repos/… for every github: host, so it cannot reach a GitHub Enterprise Server at {host}/api/v3 (Nix 2.9 and later can)",
            nix.name()
        );
        return (None, Some(Judged::fails(why, None)));
    }
    let Some(provider) = registry.by_name(fetcher).cloned().map(Box::new) else {
        return (
            None,
            Some(Judged::skipped(format!(
                "nix-tokens knows no {fetcher} provider"
            ))),
        );
    };
    match base(remembered, host, None) {
        Ok(base) => {
            let ask = Ask::Api {
                provider,
                host: host.clone(),
                base,
                owner: owner.clone(),
                repo: repo.clone(),
                token: credential.token.clone(),
                or_git: None,
            };
            (Some(ask), None)
        }
        Err(e) => (None, Some(unreachable(e))),
    }
}

/// Where `host`'s API is: the base URL remembered for it, else `fallback`, else `https://HOST`.
fn base(remembered: &Hosts, host: &str, fallback: Option<String>) -> Result<reqwest::Url, Error> {
    let given = remembered.get(host).and_then(|h| h.base_url.clone());
    http::base_url(host, given.or(fallback).as_deref())
}

fn unreachable(e: Error) -> Judged {
    Judged {
        verdict: InputVerdict::Unreachable,
        reason: e.to_string(),
        fix: None,
        notes: Vec::new(),
    }
}
