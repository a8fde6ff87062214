//! `login github --ci` (the job's `GITHUB_TOKEN`, checked as the installation token it is) and
//! `login github.com/OWNER[/REPO] --ci --octo-sts IDENTITY` (octo-sts's exchange of the job's ID
//! token for an installation token of another owner or repository).

use reqwest::Url;

use super::{Aim, CiRequest, OCTO_STS, save_ci};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flows::ci::{self, Runner};
use crate::http::{self, Http, join};
use crate::ops::save::Target;
use crate::secret::Secret;

/// The host of `GITHUB_SERVER_URL` (github.com or a GitHub Enterprise Server), and its API:
/// `GITHUB_API_URL`, else where GitHub's API is for that host.
fn github_site() -> Result<(String, Url)> {
    let server = ci::var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".to_owned());
    let server = Url::parse(&server)
        .ok()
        .filter(|u| u.host_str().is_some())
        .ok_or_else(|| Error::failed(format!("GITHUB_SERVER_URL (`{server}`) is not a URL")))?;
    let host = server.host_str().unwrap_or_default().to_owned();
    let api = match ci::var("GITHUB_API_URL") {
        Some(api) => http::base_url(&host, Some(&api))?,
        None => crate::providers::github::api_base(&host, &server),
    };
    Ok((host, api))
}

/// The base URL to remember for a GitHub host whose API is `api`: the part before `/api/v3`,
/// unless it is github.com's own.
fn github_base(api: &Url) -> Option<String> {
    let text = api.as_str().trim_end_matches('/');
    text.strip_suffix("/api/v3").map(str::to_owned)
}

pub async fn github_job_token(
    ctx: &Context,
    on: Aim<'_>,
    http: &Http,
    runner: Runner,
) -> Result<Option<u64>> {
    if runner != Runner::GithubActions {
        return Err(Error::usage(
            "`github --ci` uses a GitHub Actions job's GITHUB_TOKEN; in GitLab CI, log in to GitHub with a token from a CI secret and --with-token",
        ));
    }
    let token = ci::token_var("GITHUB_TOKEN")?.ok_or_else(|| {
        Error::failed(
            "GITHUB_TOKEN is not in the environment; pass it to the step with `env: GITHUB_TOKEN: ${{ github.token }}`",
        )
    })?;
    let (host, api) = github_site()?;
    let reads = installation_repositories(http, &api, &token).await?;
    let target = Target::resolve(on.registry, &host, Some(&on.provider.name), false, None)?;
    let base = github_base(&api);
    let saved = save_ci(ctx, &target, token, base.as_deref(), None)?;
    ctx.ui.info(&format!(
        "Logged in to {host} with the job's GITHUB_TOKEN (an installation token, valid until the job ends); it reads {reads}; it is in {}.",
        saved.display()
    ));
    Ok(None)
}

/// What an installation token reads, from `GET /installation/repositories` (`GET /user` refuses
/// such a token), in a few words.
async fn installation_repositories(
    http: &Http,
    api: &Url,
    token: &Secret<String>,
) -> Result<String> {
    let mut url = join(api, "installation/repositories");
    url.set_query(Some("per_page=5"));
    let auth = Secret::new(format!("token {}", token.expose()));
    let answer = http
        .get(&url, Some(("authorization", &auth)))
        .await
        .map_err(|e| {
            Error::failed(format!(
                "could not check GITHUB_TOKEN with {api} ({}); nothing was saved",
                e.0
            ))
        })?;
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    if !answer.status.is_success() {
        return Err(Error::failed(format!(
            "{api} refused GITHUB_TOKEN as an installation token (HTTP {}); pass the job's own token, `env: GITHUB_TOKEN: ${{{{ github.token }}}}`; nothing was saved",
            answer.status.as_u16()
        )));
    }
    let names: Vec<String> = json["repositories"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["full_name"].as_str())
        .map(crate::ui::printable)
        .collect();
    let total = json["total_count"].as_u64().unwrap_or(names.len() as u64);
    Ok(match total {
        0 => "no repository".to_owned(),
        1 => format!("1 repository ({})", names.join(", ")),
        n if names.len() as u64 == n => format!("{n} repositories ({})", names.join(", ")),
        n => format!("{n} repositories ({}, …)", names.join(", ")),
    })
}

pub async fn octo_sts(
    ctx: &Context,
    on: Aim<'_>,
    http: &Http,
    runner: Runner,
    scope: &str,
    request: &CiRequest<'_>,
) -> Result<Option<u64>> {
    let identity = request.octo_sts.unwrap_or_default();
    let id = ci::id_token(http, runner, "octo-sts.dev", request.id_token_env).await?;
    let base = ci::var("NIX_TOKENS_OCTO_STS_URL").unwrap_or_else(|| OCTO_STS.to_owned());
    let mut url = join(
        &http::base_url("octo-sts.dev", Some(&base))?,
        "sts/exchange",
    );
    url.query_pairs_mut()
        .append_pair("scope", scope)
        .append_pair("identity", identity);
    let token = ci::exchange_by_get(http, &url, &id, "octo-sts").await?;
    let (_, api) = github_site()?;
    let key = on.key;
    let target = Target::resolve(on.registry, key, Some(&on.provider.name), false, None)?;
    let saved = save_ci(ctx, &target, token, github_base(&api).as_deref(), None)?;
    ctx.ui.info(&format!(
        "Logged in to {key} with an installation token from octo-sts (identity {identity}, valid for about an hour); it is in {}; `nix-tokens logout {key} --revoke` revokes it.",
        saved.display()
    ));
    // octo-sts hands out GitHub installation tokens, which live an hour.
    Ok(Some(crate::time::unix_now() + 3600))
}
