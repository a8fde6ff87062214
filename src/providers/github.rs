//! GitHub and GitHub Enterprise Server: checking a token.
//!
//! The API is at `https://api.github.com` for github.com and at `BASE/api/v3` elsewhere (GHES).
//! `GET /user` names the owner; `X-OAuth-Scopes` lists a classic token's scopes (it is empty for
//! fine-grained tokens); `GitHub-Authentication-Token-Expiration` gives an expiry where there is
//! one; `X-RateLimit-*` the hourly budget.

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::check::{Identity, Verdict, json_body};
use crate::http::{Http, Unreachable, join};
use crate::secret::Secret;

/// Where the REST API of `host` is.
pub fn api_base(host: &str, base: &Url) -> Url {
    if host == "github.com" && base.as_str() == "https://github.com/" {
        Url::parse("https://api.github.com").expect("a valid URL")
    } else {
        join(base, "api/v3")
    }
}

pub async fn check(
    http: &Http,
    host: &str,
    base: &Url,
    token: &Secret<String>,
) -> Result<Verdict, Unreachable> {
    let auth = Secret::new(format!("token {}", token.expose()));
    let url = join(&api_base(host, base), "user");
    let response = http.get(&url, Some(("authorization", &auth))).await?;
    let body = match json_body(&response, "GitHub") {
        Ok(body) => body,
        Err(verdict) => return Ok(verdict),
    };
    let Some(user) = body.get("login").and_then(Value::as_str) else {
        return Ok(Verdict::Unreachable(
            "answered without a user name, so it does not look like GitHub".into(),
        ));
    };
    Ok(Verdict::Valid(Identity {
        user: crate::ui::printable(user),
        scopes: scopes(&response.headers),
        expires_at: header(&response.headers, "github-authentication-token-expiration")
            .and_then(|e| rfc3339(&e)),
        rate_limit: rate_limit(&response.headers),
    }))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A classic token's scopes; `None` when GitHub does not say (fine-grained tokens).
fn scopes(headers: &HeaderMap) -> Option<Vec<String>> {
    let list = header(headers, "x-oauth-scopes")?;
    let scopes: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!scopes.is_empty()).then_some(scopes)
}

fn rate_limit(headers: &HeaderMap) -> Option<(u64, u64)> {
    let number = |name| header(headers, name)?.parse().ok();
    Some((
        number("x-ratelimit-remaining")?,
        number("x-ratelimit-limit")?,
    ))
}

/// `2026-12-01 12:00:00 UTC` (or `+0200`) as RFC 3339.
fn rfc3339(text: &str) -> Option<String> {
    let mut parts = text.split_whitespace();
    let (date, time, zone) = (parts.next()?, parts.next()?, parts.next()?);
    let zone = match zone {
        "UTC" | "+0000" => "Z".to_owned(),
        z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => {
            format!("{}:{}", &z[..3], &z[3..])
        }
        _ => return None,
    };
    (date.len() == 10 && time.len() == 8).then(|| format!("{date}T{time}{zone}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_headers_become_rfc3339() {
        assert_eq!(
            rfc3339("2026-12-01 12:00:00 UTC").as_deref(),
            Some("2026-12-01T12:00:00Z")
        );
        assert_eq!(
            rfc3339("2026-12-01 12:00:00 +0200").as_deref(),
            Some("2026-12-01T12:00:00+02:00")
        );
        assert_eq!(rfc3339("soon"), None);
    }

    #[test]
    fn the_api_of_github_com_and_of_ghes() {
        let gh = Url::parse("https://github.com").unwrap();
        assert_eq!(
            api_base("github.com", &gh).as_str(),
            "https://api.github.com/"
        );
        let ghes = Url::parse("https://ghe.corp.example").unwrap();
        assert_eq!(
            api_base("ghe.corp.example", &ghes).as_str(),
            "https://ghe.corp.example/api/v3"
        );
    }
}
