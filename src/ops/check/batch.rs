//! Batched questions: the `github:`/`gitlab:` (and git) inputs asked of one forge's API with the
//! same token are asked in as few questions as its batch allows
//! ([`Forge::repos_access`](crate::providers::forge::Forge::repos_access): GitHub's GraphQL,
//! GitLab's `projects(fullPaths:)`), each batch under the same limits as any question
//! ([`polite`](super::polite)). A batch refused as a whole leaves each of its inputs to its own
//! question; one a rate limit refused is asked again once where the budget allows. A lone input
//! is asked on its own, as a batch of one would cost the same one request.

use std::collections::HashMap;

use futures_util::future::join_all;
use reqwest::Url;

use super::polite::{self, Limits};
use super::probe::{self, Ask, Found, How};
use crate::http::{Http, Unreachable};
use crate::providers::Provider;
use crate::providers::forge::Site;
use crate::providers::shared::{BatchAnswer, RepoAccess};
use crate::secret::{Secret, fingerprint};

/// One question about several repositories of one forge, with one token (or none).
pub struct Batch {
    provider: Box<Provider>,
    host: String,
    base: Url,
    token: Option<Secret<String>>,
    /// Each repository's question alone, and the rows it answers.
    items: Vec<(Ask, Vec<usize>)>,
}

/// Sorts `unique` questions into batches (each at most its forge's batch size) and the questions
/// asked alone.
pub fn group(unique: Vec<(Ask, Vec<usize>)>) -> (Vec<Batch>, Vec<(Ask, Vec<usize>)>) {
    let mut groups: HashMap<String, Vec<(Ask, Vec<usize>)>> = HashMap::new();
    let mut alone = Vec::new();
    for (ask, rows) in unique {
        match batch_key(&ask) {
            Some(key) => groups.entry(key).or_default().push((ask, rows)),
            None => alone.push((ask, rows)),
        }
    }
    let mut batches = Vec::new();
    for (_, mut members) in groups {
        members.sort_by_key(|(_, rows)| rows.first().copied());
        if members.len() < 2 {
            alone.extend(members);
            continue;
        }
        let Ask::Api {
            provider,
            host,
            base,
            token,
            ..
        } = &members[0].0
        else {
            continue;
        };
        let size = provider.forge().batch_size(token.is_none());
        let (provider, host, base, token) =
            (provider.clone(), host.clone(), base.clone(), token.clone());
        while !members.is_empty() {
            let rest = members.split_off(members.len().min(size));
            batches.push(Batch {
                provider: provider.clone(),
                host: host.clone(),
                base: base.clone(),
                token: token.clone(),
                items: std::mem::replace(&mut members, rest),
            });
        }
    }
    (batches, alone)
}

/// What puts questions in one batch: the same forge, place and token; `None` for a question
/// its forge cannot batch.
fn batch_key(ask: &Ask) -> Option<String> {
    let Ask::Api {
        provider,
        host,
        base,
        token,
        ..
    } = ask
    else {
        return None;
    };
    (provider.forge().batch_size(token.is_none()) > 1).then(|| {
        let print = token.as_ref().map(fingerprint).unwrap_or_default();
        format!("{} {host} {base} {print}", provider.name)
    })
}

/// Asks `batch`, and what each of its rows found.
pub async fn run(http: &Http, limits: &Limits, batch: Batch) -> Vec<(Vec<usize>, Found)> {
    let mut answer = once(http, limits, &batch).await;
    let mut waited = None;
    if let BatchAnswer::Limited {
        wait: Some(secs), ..
    } = answer
        && limits.grants(secs)
    {
        polite::pause(secs).await;
        waited = Some(secs);
        answer = once(http, limits, &batch).await;
    }
    let each = match answer {
        BatchAnswer::Each(each) => each,
        BatchAnswer::Unbatched(_) => {
            let alone = batch
                .items
                .into_iter()
                .map(|(ask, rows)| async move { (rows, probe::one(http, limits, ask).await) });
            return join_all(alone).await;
        }
        BatchAnswer::Limited { why, wait } => {
            let why = match (waited, wait) {
                (Some(secs), _) => polite::out_of_time(&why, secs, true),
                (None, Some(secs)) => polite::out_of_time(&why, secs, false),
                (None, None) => format!("{why}: not checked"),
            };
            vec![RepoAccess::Unreachable(why); batch.items.len()]
        }
    };
    let answered = batch
        .items
        .into_iter()
        .zip(each)
        .map(|((ask, rows), access)| async move {
            // git may read what the API may not (a GitLab token without `read_api`): such an input
            // is asked on its own, which tries git.
            let found = match (&access, &ask) {
                (
                    RepoAccess::Unknown(_) | RepoAccess::Forbidden(_),
                    Ask::Api {
                        or_git: Some(_), ..
                    },
                ) => probe::one(http, limits, ask).await,
                _ => Found::new(How::Api, access.into()),
            };
            (rows, found)
        });
    join_all(answered).await
}

/// One asking of `batch`, in its place among the requests in flight at its host.
async fn once(http: &Http, limits: &Limits, batch: &Batch) -> BatchAnswer {
    let repos: Vec<(String, String)> = batch
        .items
        .iter()
        .filter_map(|(ask, _)| match ask {
            Ask::Api { owner, repo, .. } => Some((owner.clone(), repo.clone())),
            _ => None,
        })
        .collect();
    let site = Site {
        http,
        provider: &batch.provider,
        host: &batch.host,
        base: &batch.base,
        login: None,
    };
    let forge = batch.provider.forge();
    let _slot = limits.slot(&batch.items[0].0.target_host()).await;
    let asked = forge.repos_access(&site, &repos, batch.token.as_ref());
    match tokio::time::timeout(super::git::TIMEOUT, asked).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(Unreachable(why))) => {
            BatchAnswer::Each(vec![RepoAccess::Unreachable(why); repos.len()])
        }
        Err(_) => {
            let why = format!("no answer within {} seconds", super::git::TIMEOUT.as_secs());
            BatchAnswer::Each(vec![RepoAccess::Unreachable(why); repos.len()])
        }
    }
}
