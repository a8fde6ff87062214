//! Asking whether each input can be read with the credential Nix will send, every question at
//! once on one runtime, each with its own timeout: the forge's API where its kind is known
//! ([`Forge::repo_access`](crate::providers::forge::Forge::repo_access)), a `HEAD` (or a one-byte
//! `GET`) for a download, and `git ls-remote` through nix-tokens' helper alone for a git URL on a
//! host of no known kind. The same question (same place, same token) is asked once.

use std::collections::HashMap;

use base64::Engine;
use futures_util::StreamExt;
use reqwest::Url;

use super::git::{GitAsk, TIMEOUT, ls_remote};
use crate::http::{self, Http, Unreachable};
use crate::providers::Provider;
use crate::providers::forge::Site;
use crate::providers::shared::{RepoAccess, RepoAnswer};
use crate::secret::{Secret, fingerprint};

/// How many questions are in flight at once.
const AT_ONCE: usize = 128;

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
    /// A download, with a netrc login and password as curl sends them.
    Download {
        url: Url,
        basic: Option<(String, Secret<String>)>,
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
}

impl Found {
    fn new(how: How, answer: RepoAnswer) -> Self {
        Found {
            access: answer.access,
            rate_limit: answer.rate_limit,
            how,
            note: None,
        }
    }
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
            Ask::Download { url, basic } => {
                format!("get {url} {}", print(basic.as_ref().map(|(_, p)| p)))
            }
            Ask::Git(g) => format!("git {} {:?} {}", g.url, g.helper, g.use_http_path),
        }
    }
}

/// Asks every question of `asks` (by row; `None` for a row with nothing to ask), all at once.
pub fn ask_all(asks: &[Option<Ask>]) -> crate::error::Result<Vec<Option<Found>>> {
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
    let http = Http::new()?;
    let runtime = http::runtime()?;
    let answers: Vec<(Vec<usize>, Found)> = runtime.block_on(async {
        futures_util::stream::iter(unique.into_values())
            .map(|(ask, rows)| {
                let http = http.clone();
                async move {
                    let how = ask.how();
                    let found = tokio::time::timeout(TIMEOUT, run(&http, ask))
                        .await
                        .unwrap_or_else(|_| {
                            let why = format!("no answer within {} seconds", TIMEOUT.as_secs());
                            Found::new(how, RepoAccess::Unreachable(why).into())
                        });
                    (rows, found)
                }
            })
            .buffer_unordered(AT_ONCE)
            .collect()
            .await
    });
    let mut out = vec![None; asks.len()];
    for (rows, found) in answers {
        for row in rows {
            out[row] = Some(found.clone());
        }
    }
    Ok(out)
}

impl Ask {
    fn how(&self) -> How {
        match self {
            Ask::Api { .. } => How::Api,
            Ask::Download { .. } => How::Download,
            Ask::Git(_) => How::Git,
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
        Ask::Download { url, basic } => download(http, &url, basic).await,
        Ask::Git(git) => Found::new(How::Git, ls_remote(&git).await),
    }
}

/// A `HEAD` of `url` (a one-byte `GET` where `HEAD` is refused), with `basic` as curl sends a
/// netrc entry.
async fn download(http: &Http, url: &Url, basic: Option<(String, Secret<String>)>) -> Found {
    let header = basic.as_ref().map(|(login, password)| {
        let pair = format!("{login}:{}", password.expose());
        Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    });
    let auth = header.as_ref().map(|h| ("authorization", h));
    let mut answer = http.head(url, auth).await;
    if answer
        .as_ref()
        .is_ok_and(|r| matches!(r.status.as_u16(), 405 | 501))
    {
        answer = http.get_first_byte(url, auth).await;
    }
    let response = match answer {
        Ok(response) => response,
        Err(Unreachable(why)) => {
            return Found::new(How::Download, RepoAccess::Unreachable(why).into());
        }
    };
    let code = response.status.as_u16();
    let mut note = None;
    let access = match code {
        200..=299 if basic.is_some() => RepoAccess::Private,
        200..=299 => RepoAccess::Public,
        300..=399 => {
            let to = response
                .headers
                .get("location")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .and_then(|l| l.host_str().map(str::to_owned))
                .unwrap_or_else(|| "another host".to_owned());
            note = Some(format!(
                "it redirects to {}, which nix-tokens does not follow",
                crate::ui::printable(&to)
            ));
            RepoAccess::Public
        }
        401 if basic.is_some() => RepoAccess::Refused(format!("HTTP {code}")),
        403 if basic.is_some() => RepoAccess::Forbidden(format!("HTTP {code}")),
        401 | 403 | 404 | 410 => RepoAccess::Hidden,
        _ => RepoAccess::Unreachable(format!("answered HTTP {code}")),
    };
    Found {
        note,
        ..Found::new(How::Download, access.into())
    }
}
