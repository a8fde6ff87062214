//! Detecting what a host runs when no provider file names it: a few anonymous probes, at once,
//! each with a short timeout (REFERENCE.md §3). Forgejo is asked before Gitea, since Forgejo also
//! answers Gitea's endpoint and its version string does not say "forgejo".

use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::Kind;
use crate::http::{Http, Response, join};

/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

/// What one probe saw, for the report when nothing matches.
struct Probe {
    what: String,
    answer: Option<Response>,
    why: String,
}

async fn probe(http: &Http, base: &Url, path: &str) -> Probe {
    let url = join(base, path);
    match tokio::time::timeout(PROBE_TIMEOUT, http.get(&url, None)).await {
        Ok(Ok(response)) => Probe {
            why: format!("HTTP {}", response.status.as_u16()),
            what: url.to_string(),
            answer: Some(response),
        },
        Ok(Err(e)) => Probe {
            what: url.to_string(),
            answer: None,
            why: e.0,
        },
        Err(_) => Probe {
            what: url.to_string(),
            answer: None,
            why: format!("no answer within {} seconds", PROBE_TIMEOUT.as_secs()),
        },
    }
}

fn json_with(answer: &Option<Response>, key: &str) -> bool {
    answer.as_ref().is_some_and(|r| {
        r.status.is_success()
            && serde_json::from_slice::<Value>(&r.body)
                .ok()
                .is_some_and(|v| v.get(key).is_some())
    })
}

/// The kind of forge at `base`, or what was tried (one line each) when nothing matched.
pub async fn detect(http: &Http, base: &Url) -> Result<Kind, Vec<String>> {
    let (github, gitlab, forgejo, gitea, oidc) = tokio::join!(
        probe(http, base, "api/v3"),
        probe(http, base, "users/sign_in"),
        probe(http, base, "api/forgejo/v1/version"),
        probe(http, base, "api/v1/version"),
        probe(http, base, ".well-known/openid-configuration"),
    );
    let has_header = |p: &Probe, name: &str| {
        p.answer
            .as_ref()
            .is_some_and(|r| r.headers.contains_key(name))
    };
    if json_with(&github.answer, "current_user_url")
        || has_header(&github, "x-github-enterprise-version")
    {
        return Ok(Kind::Github);
    }
    if has_header(&gitlab, "x-gitlab-meta") {
        return Ok(Kind::Gitlab);
    }
    if json_with(&forgejo.answer, "version") {
        return Ok(Kind::Forgejo);
    }
    if json_with(&gitea.answer, "version") {
        return Ok(Kind::Gitea);
    }
    // A forge may also be an issuer (GitLab is), so discovery is the last thing asked.
    if json_with(&oidc.answer, "token_endpoint") {
        return Ok(Kind::Oidc);
    }
    Err([
        (github, "GitHub Enterprise"),
        (gitlab, "GitLab (X-Gitlab-Meta)"),
        (forgejo, "Forgejo"),
        (gitea, "Gitea"),
        (oidc, "OpenID Connect"),
    ]
    .into_iter()
    .map(|(p, kind)| format!("{kind}: {} ({})", p.what, p.why))
    .collect())
}

/// For a token no provider is known for: asks every kind of forge's "who am I" endpoint on the
/// token's own host at once (and Forgejo's version endpoint, to tell it from Gitea), so that one
/// round trip both recognises the forge and checks the token. Returns the verdict and the kind
/// whose endpoint answered, if any.
pub async fn identify_and_check(
    http: &Http,
    providers: &IdentifyWith<'_>,
    host: &str,
    base: &Url,
    token: &crate::secret::Secret<String>,
) -> (super::check::Verdict, Option<Kind>) {
    use super::check::{Verdict, check};
    let (github, gitlab, gitea, forgejo) = tokio::join!(
        check(http, providers.github, host, base, token),
        check(http, providers.gitlab, host, base, token),
        check(http, providers.gitea, host, base, token),
        probe(http, base, "api/forgejo/v1/version"),
    );
    let gitea_kind = if json_with(&forgejo.answer, "version") {
        Kind::Forgejo
    } else {
        Kind::Gitea
    };
    // The forge that accepted the token, else the one that refused it.
    let mut answers = vec![
        (github, Kind::Github),
        (gitlab, Kind::Gitlab),
        (gitea, gitea_kind),
    ];
    let position = |wanted: fn(&Verdict) -> bool| answers.iter().position(|(v, _)| wanted(v));
    let found = position(|v| matches!(v, Verdict::Valid(_)))
        .or_else(|| position(|v| matches!(v, Verdict::Rejected(_))));
    if let Some(i) = found {
        let (verdict, kind) = answers.swap_remove(i);
        return (verdict, Some(kind));
    }
    (
        Verdict::Unverified(
            "no forge API on this host accepted or refused the token; log in with --provider"
                .into(),
        ),
        None,
    )
}

/// The built-in providers [`identify_and_check`] asks as.
pub struct IdentifyWith<'a> {
    pub github: &'a super::Provider,
    pub gitlab: &'a super::Provider,
    pub gitea: &'a super::Provider,
}

/// The built-in provider named after a kind.
pub fn provider_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Github => "github",
        Kind::Gitlab => "gitlab",
        Kind::Gitea => "gitea",
        Kind::Forgejo => "forgejo",
        Kind::Sourcehut => "sourcehut",
        Kind::Oidc => "oidc",
    }
}
