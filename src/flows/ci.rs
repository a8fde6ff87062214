//! A CI job's own identity: which CI runs this process, the ID tokens it hands out (GitHub Actions'
//! ID-token endpoint, GitLab's `id_tokens:` variables), the two ways services trade an ID token for
//! a token of their own (a JSON `POST` whose answer is the token, a `GET` with the ID token as
//! bearer whose JSON answer names it), and the log mask GitHub Actions honours.
//! Provider names never appear here: the caller says which audience and which URL.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::Url;

use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::ui::printable;

/// The CI a process runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    GithubActions,
    GitlabCi,
}

/// An environment variable the CI set, when it is set and not empty.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The CI this process runs in (`GITHUB_ACTIONS=true`, `GITLAB_CI=true`), if any.
pub fn runner() -> Option<Runner> {
    if var("GITHUB_ACTIONS").as_deref() == Some("true") {
        Some(Runner::GithubActions)
    } else if var("GITLAB_CI").as_deref() == Some("true") {
        Some(Runner::GitlabCi)
    } else {
        None
    }
}

/// The CI this process runs in, or the sentence saying `--ci` needs one.
pub fn require_runner() -> Result<Runner> {
    runner().ok_or_else(|| {
        Error::usage(
            "--ci trades a CI job's own identity, and this is not a CI job (neither GITHUB_ACTIONS=true nor GITLAB_CI=true is set); outside CI, log in without --ci",
        )
    })
}

/// A secret the job's environment holds, or `None`.
pub fn secret_var(name: &str) -> Option<Secret<String>> {
    var(name).map(Secret::new)
}

/// The token the job's variable `name` holds (`None` when it is unset), once it is one token
/// ([`accept`]).
pub fn token_var(name: &str) -> Result<Option<Secret<String>>> {
    secret_var(name)
        .map(|token| accept(token, &format!("${name}")))
        .transpose()
}

/// Every token a CI hands over (a job token, an ID token, an exchange's answer, and each of
/// their renewals) passes here before anything else is done with it: refused with one sentence
/// unless it is one token ([`crate::secret::token_problem`], the rule every token meets), then
/// announced to the log mask. `from` names where it came from; the refusal never repeats it.
pub fn accept(token: Secret<String>, from: &str) -> Result<Secret<String>> {
    if let Some(problem) = crate::secret::token_problem(token.expose()) {
        return Err(Error::failed(format!(
            "{from} gave something that is not one token ({problem}); nix-tokens uses none of it, and nothing was saved"
        )));
    }
    mask_in_log(&token);
    Ok(token)
}

/// Whether [`mask_in_log`] prints its masks; see [`stop_masking_in_log`].
static MASKS_REACH_THE_LOG: AtomicBool = AtomicBool::new(true);

/// Stops [`mask_in_log`] for the rest of this process. The CI watcher runs after the step that
/// started it has ended, when nothing reads a mask from its output: an `::add-mask::` line there
/// would only be a secret written to a file, so the watcher prints none.
pub fn stop_masking_in_log() {
    MASKS_REACH_THE_LOG.store(false, Ordering::Relaxed);
}

/// Tells GitHub Actions to hide `secret` in the job's log (`::add-mask::`), on standard output and
/// at once, before anything else could print it. Elsewhere, and in the watcher (see
/// [`stop_masking_in_log`]), it does nothing. The runner reads a mask to the end of its line, so a
/// value that is not one token ([`accept`] refuses it first) is never written: its other lines
/// would be printed raw, and read as workflow commands.
fn mask_in_log(secret: &Secret<String>) {
    if crate::secret::token_problem(secret.expose()).is_some() {
        return;
    }
    if runner() == Some(Runner::GithubActions) && MASKS_REACH_THE_LOG.load(Ordering::Relaxed) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "::add-mask::{}", secret.expose());
        let _ = out.flush();
    }
}

/// The name GitLab users give the variable of an ID token for `audience`, as ambient-id looks it
/// up: the audience upper-cased, every character but a letter or digit turned into `_`, and
/// `_ID_TOKEN` appended (`prefix.dev` → `PREFIX_DEV_ID_TOKEN`).
pub fn id_token_var(audience: &str) -> String {
    let name: String = audience
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}_ID_TOKEN")
}

/// An ID token for `audience` from the CI: on GitHub Actions asked of its ID-token endpoint; on
/// GitLab read from `variable` (else [`id_token_var`]). Announced to the log mask.
pub async fn id_token(
    http: &Http,
    runner: Runner,
    audience: &str,
    variable: Option<&str>,
) -> Result<Secret<String>> {
    let token = match runner {
        Runner::GithubActions => github_id_token(http, audience).await?,
        Runner::GitlabCi => {
            let name = variable.map_or_else(|| id_token_var(audience), str::to_owned);
            token_var(&name)?.ok_or_else(|| {
                Error::failed(format!(
                    "the job has no ID token for {audience} in ${name}; declare one in .gitlab-ci.yml (`id_tokens: {name}: {{ aud: {audience} }}`), or name its variable with --id-token-env"
                ))
            })?
        }
    };
    Ok(token)
}

/// GitHub Actions' ID token for `audience`: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with
/// the request token as bearer, answering `{"value": JWT}`.
async fn github_id_token(http: &Http, audience: &str) -> Result<Secret<String>> {
    let (Some(url), Some(request)) = (
        var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        secret_var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        return Err(Error::failed(format!(
            "this GitHub Actions job cannot ask for an ID token (for {audience}): give the workflow or job `permissions: id-token: write` (pull requests from forks never get one)"
        )));
    };
    let mut url = Url::parse(&url).map_err(|_| {
        Error::failed(
            "ACTIONS_ID_TOKEN_REQUEST_URL is not a URL; run nix-tokens in a GitHub Actions step",
        )
    })?;
    // The request token goes there: https only (plain http to this machine alone), as for
    // every URL a token is sent to.
    if !crate::http::may_carry_token(&url) {
        return Err(Error::failed(format!(
            "ACTIONS_ID_TOKEN_REQUEST_URL ({}://{}) is not https, and the job's request token is never sent in clear; run nix-tokens in a GitHub Actions step, whose runner gives an https URL",
            url.scheme(),
            printable(url.host_str().unwrap_or(""))
        )));
    }
    url.query_pairs_mut().append_pair("audience", audience);
    let bearer = Secret::new(format!("Bearer {}", request.expose()));
    let answer = http
        .get(&url, Some(("authorization", &bearer)))
        .await
        .map_err(|e| {
            Error::failed(format!(
                "could not reach GitHub's ID-token endpoint ({})",
                e.0
            ))
        })?;
    let json: Option<serde_json::Value> = serde_json::from_slice(&answer.body).ok();
    match json.as_ref().and_then(|j| j["value"].as_str()) {
        Some(value) if answer.status.is_success() && !value.is_empty() => {
            accept(Secret::new(value.to_owned()), "GitHub's ID-token endpoint")
        }
        _ => Err(Error::failed(format!(
            "GitHub's ID-token endpoint gave no ID token for {audience} (HTTP {}); check the job's `permissions: id-token: write`",
            answer.status.as_u16()
        ))),
    }
}

/// Trades `id` at `url` by `POST {"token": ID}`; the body of a 2xx answer is the token (the
/// exchange prefix.dev's repository access uses). `service` names the service in errors.
pub async fn exchange_by_post(
    http: &Http,
    url: &Url,
    id: &Secret<String>,
    service: &str,
) -> Result<Secret<String>> {
    let body = serde_json::json!({ "token": id.expose() });
    let answer = http.post_json(url, &body, None).await.map_err(|e| {
        Error::failed(format!(
            "could not reach {service} ({}); nothing was saved",
            e.0
        ))
    })?;
    let text = String::from_utf8_lossy(&answer.body).trim().to_owned();
    if !answer.status.is_success() || text.is_empty() {
        return Err(refused(service, &answer));
    }
    accept(Secret::new(text), service)
}

/// Trades `id` by `GET url` with it as bearer; the JSON answer's `token` is the token (the
/// exchange octo-sts offers).
pub async fn exchange_by_get(
    http: &Http,
    url: &Url,
    id: &Secret<String>,
    service: &str,
) -> Result<Secret<String>> {
    let bearer = Secret::new(format!("Bearer {}", id.expose()));
    let answer = http
        .get(url, Some(("authorization", &bearer)))
        .await
        .map_err(|e| {
            Error::failed(format!(
                "could not reach {service} ({}); nothing was saved",
                e.0
            ))
        })?;
    let json: Option<serde_json::Value> = serde_json::from_slice(&answer.body).ok();
    let token = json
        .as_ref()
        .and_then(|j| j["token"].as_str())
        .filter(|t| !t.is_empty());
    match token {
        Some(token) if answer.status.is_success() => accept(Secret::new(token.to_owned()), service),
        _ => Err(refused(service, &answer)),
    }
}

/// The sentence for an exchange the service refused, with a few words of its answer.
fn refused(service: &str, answer: &crate::http::Response) -> Error {
    let said: String = printable(&String::from_utf8_lossy(&answer.body))
        .chars()
        .take(160)
        .collect();
    Error::failed(format!(
        "{service} refused the job's ID token (HTTP {}: {said}); check the service's trust settings for this repository; nothing was saved",
        answer.status.as_u16()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_token_variables_are_named_as_ambient_id_names_them() {
        assert_eq!(id_token_var("prefix.dev"), "PREFIX_DEV_ID_TOKEN");
        assert_eq!(
            id_token_var("api.flakehub.com"),
            "API_FLAKEHUB_COM_ID_TOKEN"
        );
        assert_eq!(id_token_var("https://x-y"), "HTTPS___X_Y_ID_TOKEN");
    }
}
