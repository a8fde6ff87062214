//! Asking whether each input can be read with the credential Nix will send, every question at
//! once on one runtime, each with its own timeout: the forge's API where its kind is known
//! ([`Forge::repo_access`](crate::providers::forge::Forge::repo_access)), a `HEAD` (or a one-byte
//! `GET`) for a download, following its redirects as Nix's curl does, and `git ls-remote` through
//! nix-tokens' helper alone for a git URL on a host of no known kind. The same question (same
//! place, same token) is asked once; questions a forge can batch are asked together ([`batch`]);
//! every question waits for its place among those in flight and for what a rate limit asks
//! ([`polite`]).
//!
//! [`batch`]: super::batch
//! [`polite`]: super::polite

use std::collections::{BTreeMap, HashMap};

use futures_util::future::join_all;
use reqwest::Url;

use super::batch;
use super::git::{GitAsk, TIMEOUT, ls_remote};
use super::polite::{self, Limits};
use crate::http::{self, Http, Unreachable};
use crate::providers::Kind;
use crate::providers::Provider;
use crate::providers::forge::Site;
use crate::providers::shared::{RepoAccess, RepoAnswer};
use crate::secret::{Secret, fingerprint};

/// A question about one input.
#[derive(Clone)]
pub enum Ask {
    /// The forge's API, with `token` (as stored for Nix) or none.
    Api {
        provider: Box<Provider>,
        host: String,
        base: Url,
        owner: String,
        repo: String,
        token: Option<Secret<String>>,
        /// For a git input: what to run when the API cannot say.
        or_git: Option<GitAsk>,
    },
    /// A download, with a netrc login and password as curl sends them; an `archive` is one
    /// Nix unpacks (a `tarball` input).
    Download {
        url: Url,
        basic: Option<(String, Secret<String>)>,
        archive: bool,
    },
    Git(GitAsk),
}

/// How an answer was had, which decides how it is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Api,
    Download,
    Git,
}

/// What a question found.
#[derive(Debug, Clone)]
pub struct Found {
    pub access: RepoAccess,
    pub rate_limit: Option<(u64, u64)>,
    pub how: How,
    /// Something worth adding to the reason (where a download redirects).
    pub note: Option<String>,
    /// Seconds a rate limit asks to wait before asking again.
    pub wait: Option<u64>,
}

impl Found {
    pub fn new(how: How, answer: RepoAnswer) -> Self {
        Found {
            access: answer.access,
            rate_limit: answer.rate_limit,
            how,
            note: None,
            wait: answer.wait,
        }
    }
}

impl Found {
    /// Tells `limits` what GitHub said is left to the caller `who`.
    fn noted(self, limits: &Limits, who: Option<&str>) -> Self {
        if let Some(who) = who {
            limits.note_left(who, self.rate_limit);
        }
        self
    }
}

/// What every question found, by row, and how many requests went to each host.
pub struct Asked {
    pub found: Vec<Option<Found>>,
    pub sent: BTreeMap<String, u64>,
}

impl Ask {
    /// What makes two questions the same.
    fn key(&self) -> String {
        let print = |t: Option<&Secret<String>>| t.map(fingerprint).unwrap_or_default();
        match self {
            Ask::Api {
                host,
                base,
                owner,
                repo,
                token,
                provider,
                ..
            } => format!(
                "api {} {host} {base} {owner}/{repo} {}",
                provider.name,
                print(token.as_ref())
            ),
            Ask::Download {
                url,
                basic,
                archive,
            } => {
                let basic = print(basic.as_ref().map(|(_, p)| p));
                format!("get {url} {basic} {archive}")
            }
            Ask::Git(g) => format!("git {} {:?} {}", g.url, g.helper, g.use_http_path),
        }
    }
}

/// Asks every question of `asks` (by row; `None` for a row with nothing to ask), all at once
/// within the limits [`polite`] sets.
pub fn ask_all(asks: &[Option<Ask>]) -> crate::error::Result<Asked> {
    let mut unique: HashMap<String, (Ask, Vec<usize>)> = HashMap::new();
    for (row, ask) in asks.iter().enumerate() {
        if let Some(ask) = ask {
            unique
                .entry(ask.key())
                .or_insert_with(|| (ask.clone(), Vec::new()))
                .1
                .push(row);
        }
    }
    let (batches, alone) = batch::group(unique.into_values().collect());
    let http = Http::new()?;
    let runtime = http::runtime()?;
    let limits = Limits::new();
    let answers: Vec<(Vec<usize>, Found)> = runtime.block_on(async {
        let alone = join_all(
            alone
                .into_iter()
                .map(|(ask, rows)| async { (rows, one(&http, &limits, ask).await) }),
        );
        let batched = join_all(batches.into_iter().map(|b| batch::run(&http, &limits, b)));
        let (alone, batched) = futures_util::future::join(alone, batched).await;
        alone
            .into_iter()
            .chain(batched.into_iter().flatten())
            .collect()
    });
    let mut out = vec![None; asks.len()];
    for (rows, found) in answers {
        for row in rows {
            out[row] = Some(found.clone());
        }
    }
    Ok(Asked {
        found: out,
        sent: http.sent(),
    })
}

/// Asks `ask` alone, in its place among the requests in flight at its host, and once more after
/// the wait a rate limit asks for where the budget allows.
pub async fn one(http: &Http, limits: &Limits, ask: Ask) -> Found {
    let host = ask.target_host();
    let who = ask.caller();
    let attempt = || async {
        let _slot = limits.slot(&host).await;
        let how = ask.how();
        if let Some(limit) = who.as_deref().and_then(|w| limits.used_up(w)) {
            let why =
                format!("GitHub's rate limit is used up (0 of {limit} requests left this hour)");
            return Found {
                rate_limit: Some((0, limit)),
                ..Found::new(how, RepoAccess::Forbidden(why).into())
            };
        }
        tokio::time::timeout(TIMEOUT, run(http, ask.clone()))
            .await
            .unwrap_or_else(|_| {
                let why = format!("no answer within {} seconds", TIMEOUT.as_secs());
                Found::new(how, RepoAccess::Unreachable(why).into())
            })
            .noted(limits, who.as_deref())
    };
    let found = attempt().await;
    let Some(secs) = found.wait else {
        return found;
    };
    let (mut found, again) = match limits.grants(secs) {
        true => {
            polite::pause(secs).await;
            (attempt().await, true)
        }
        false => (found, false),
    };
    if found.wait.is_some()
        && let RepoAccess::Unreachable(why) = &found.access
    {
        found.access = RepoAccess::Unreachable(polite::out_of_time(why, secs, again));
    }
    found
}

impl Ask {
    fn how(&self) -> How {
        match self {
            Ask::Api { .. } => How::Api,
            Ask::Download { .. } => How::Download,
            Ask::Git(_) => How::Git,
        }
    }

    /// Who asks GitHub's API (its host and the credential's fingerprint), whose requests an
    /// hour GitHub counts; `None` for any other question.
    fn caller(&self) -> Option<String> {
        match self {
            Ask::Api {
                provider, token, ..
            } if provider.kind == Kind::Github => Some(format!(
                "{} {}",
                self.target_host(),
                token.as_ref().map(fingerprint).unwrap_or_default()
            )),
            _ => None,
        }
    }

    /// The host its requests go to (`HOST` or `HOST:PORT`): a forge's API host (api.github.com
    /// for github.com), a download's or a git URL's own.
    pub fn target_host(&self) -> String {
        let url = match self {
            Ask::Api {
                provider,
                host,
                base,
                ..
            } if provider.kind == Kind::Github => crate::providers::github::api_base(host, base),
            Ask::Api { base, .. } => base.clone(),
            Ask::Download { url, .. } => url.clone(),
            Ask::Git(git) => git.url.clone(),
        };
        let name = url.host_str().unwrap_or("").to_owned();
        match url.port() {
            Some(port) => format!("{name}:{port}"),
            None => name,
        }
    }
}

async fn run(http: &Http, ask: Ask) -> Found {
    match ask {
        Ask::Api {
            provider,
            host,
            base,
            owner,
            repo,
            token,
            or_git,
        } => {
            let site = Site {
                http,
                provider: &provider,
                host: &host,
                base: &base,
                login: None,
            };
            let forge = provider.forge();
            let answer = forge
                .repo_access(&site, &owner, &repo, token.as_ref())
                .await
                .unwrap_or_else(|Unreachable(why)| RepoAccess::Unreachable(why).into());
            match (&answer.access, or_git) {
                // git may read what the API may not (a GitLab token without `read_api`).
                (RepoAccess::Unknown(_) | RepoAccess::Forbidden(_), Some(git)) => {
                    Found::new(How::Git, ls_remote(&git).await)
                }
                _ => Found::new(How::Api, answer),
            }
        }
        Ask::Download {
            url,
            basic,
            archive,
        } => super::download::download(http, &url, basic, archive).await,
        Ask::Git(git) => Found::new(How::Git, ls_remote(&git).await),
    }
}
