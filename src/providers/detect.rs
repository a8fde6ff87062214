//! Detecting what a host runs when no provider file names it: every kind's anonymous probe at
//! once, each with a short timeout, the first match in [`kinds::ALL`]'s order winning; and, for a
//! token no provider is known for, recognising the forge and checking the token in one round trip.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Url;

use super::forge::{Forge, Site};
use super::kinds;
use super::provider::{Kind, Provider};
use super::shared::Verdict;
use crate::http::{Http, Response, join};
use crate::secret::Secret;

/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

/// What one probe saw, for the report when nothing matches.
struct Seen {
    what: String,
    answer: Option<Response>,
    why: String,
}

async fn probe(http: &Http, base: &Url, path: &str) -> Seen {
    let url = join(base, path);
    match tokio::time::timeout(PROBE_TIMEOUT, http.get(&url, None)).await {
        Ok(Ok(response)) => Seen {
            why: format!("HTTP {}", response.status.as_u16()),
            what: url.to_string(),
            answer: Some(response),
        },
        Ok(Err(e)) => Seen {
            what: url.to_string(),
            answer: None,
            why: e.0,
        },
        Err(_) => Seen {
            what: url.to_string(),
            answer: None,
            why: format!("no answer within {} seconds", PROBE_TIMEOUT.as_secs()),
        },
    }
}

/// Whether `forge`'s probe matches what it saw.
fn matched(forge: &dyn Forge, seen: &Seen) -> bool {
    let (Some(probe), Some(answer)) = (forge.probe(), &seen.answer) else {
        return false;
    };
    (probe.matches)(answer)
}

/// Runs the probes of `forges` at once; the answers come back in the same order.
async fn probe_all(http: &Http, base: &Url, forges: &[&'static dyn Forge]) -> Vec<Seen> {
    let probes = forges
        .iter()
        .filter_map(|f| f.probe())
        .map(|p| probe(http, base, p.path));
    join_all(probes).await
}

/// The kind of forge at `base`, or what was tried (one line each) when nothing matched.
pub async fn detect(http: &Http, base: &Url) -> Result<Kind, Vec<String>> {
    let forges: Vec<&'static dyn Forge> = kinds::ALL
        .iter()
        .copied()
        .filter(|f| f.probe().is_some())
        .collect();
    let seen = probe_all(http, base, &forges).await;
    if let Some((forge, _)) = forges.iter().zip(&seen).find(|(f, s)| matched(**f, s)) {
        return Ok(forge.kind());
    }
    Err(forges
        .iter()
        .zip(seen)
        .map(|(f, s)| {
            let label = f.probe().map_or("?", |p| p.label);
            format!("{label}: {} ({})", s.what, s.why)
        })
        .collect())
}

/// For a token no provider is known for: checks it as every kind that [identifies
/// tokens](Forge::identifies_tokens) would, on the token's own host and all at once (with the
/// probes of those kinds' variants, to tell Forgejo from Gitea), so that one round trip both
/// recognises the forge and checks the token. `providers` gives the built-in provider of a kind.
/// Returns the verdict and the kind that answered, if any.
pub async fn identify_and_check(
    http: &Http,
    providers: &(dyn Fn(Kind) -> Option<Provider> + Sync),
    host: &str,
    base: &Url,
    token: &Secret<String>,
) -> (Verdict, Option<Kind>) {
    let asked: Vec<(&'static dyn Forge, Provider)> = kinds::ALL
        .iter()
        .copied()
        .filter(|f| f.identifies_tokens())
        .filter_map(|f| Some((f, providers(f.kind())?)))
        .collect();
    let variants: Vec<&'static dyn Forge> = kinds::ALL
        .iter()
        .copied()
        .filter(|f| {
            f.variant_of()
                .is_some_and(|of| asked.iter().any(|(a, _)| a.kind() == of))
        })
        .collect();
    let checks = asked.iter().map(|(forge, provider)| async move {
        let site = Site {
            http,
            provider,
            host,
            base,
            login: None,
        };
        let verdict = forge.check(&site, token).await;
        verdict.unwrap_or_else(|e| Verdict::Unreachable(e.0))
    });
    let (verdicts, seen) = tokio::join!(join_all(checks), probe_all(http, base, &variants));
    // The forge that accepted the token, else the one that refused it.
    let position = |wanted: fn(&Verdict) -> bool| verdicts.iter().position(wanted);
    let found = position(|v| matches!(v, Verdict::Valid(_)))
        .or_else(|| position(|v| matches!(v, Verdict::Rejected(_))));
    let Some(i) = found else {
        return (
            Verdict::Unverified(
                "no forge API on this host accepted or refused the token; log in with --provider"
                    .into(),
            ),
            None,
        );
    };
    let kind = asked[i].0.kind();
    let variant = variants
        .iter()
        .zip(&seen)
        .find(|(v, s)| v.variant_of() == Some(kind) && matched(**v, s))
        .map(|(v, _)| v.kind());
    let verdict = verdicts.into_iter().nth(i).expect("found above");
    (verdict, Some(variant.unwrap_or(kind)))
}
