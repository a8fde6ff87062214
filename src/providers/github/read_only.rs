//! Read-only GitHub logins. GitHub has no read-only classic scope for private code (`repo` also
//! writes), so `login --read-only` takes a fine-grained personal access token (`github_pat_…`),
//! made at `/settings/personal-access-tokens/new` (pre-filled through its URL parameters on
//! github.com: name, description, `target_name` for the resource owner, `contents=read`). GitHub
//! tells no fine-grained token's permissions, so the check shows what it can do instead: it lists
//! the repositories the token reaches (`GET /user/repos`) and reads the commits of a private one
//! (`GET /repos/OWNER/REPO/commits`), which needs `Contents: read`, as Nix's fetches do. A GitHub
//! App's user token (`ghu_…`, from `login --read-only --client-id Iv…`) is checked the same way:
//! the app's permissions decide what it may do.

use reqwest::Url;
use serde_json::Value;
use url::form_urlencoded;

use super::api_base;
use crate::http::{Unreachable, join};
use crate::providers::forge::{Site, TokenEntry};
use crate::providers::shared::{Identity, Privileges, ReadOnlyCheck};
use crate::secret::Secret;

/// Where a person manages their fine-grained tokens on `host`.
fn settings(host: &str) -> String {
    format!("https://{host}/settings/personal-access-tokens")
}

/// The page that makes a fine-grained token reading contents, pre-filled, and what to pick.
pub fn entry(host: &str, owner: Option<&str>) -> TokenEntry {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("name", "Nix (read-only)");
    query.append_pair(
        "description",
        "Read-only access for Nix, stored by nix-tokens",
    );
    if let Some(owner) = owner {
        query.append_pair("target_name", owner);
    }
    query.append_pair("contents", "read");
    let page = format!("{}/new?{}", settings(host), query.finish());
    let owner = owner.map_or_else(
        || "the account or organisation that owns the repositories Nix fetches".to_owned(),
        |o| format!("`{o}`"),
    );
    TokenEntry {
        advice: Some(format!(
            "create a fine-grained token at {page}: resource owner {owner}, repository access only to the repositories Nix fetches, and the permission Contents: Read-only (Metadata: Read-only comes with it)"
        )),
        page: Some(page),
    }
}

/// What GitHub tells of a token without `X-OAuth-Scopes`: nothing of its permissions, which are
/// set where it was made.
pub fn permissions_token(host: &str, token: &Secret<String>) -> Privileges {
    let t = token.expose();
    Privileges::unknown(if t.starts_with("github_pat_") {
        format!(
            "is fine-grained: it may do what the permissions chosen when it was made allow (see {})",
            settings(host)
        )
    } else if t.starts_with("ghu_") {
        format!(
            "is a GitHub App user token: it may do what the app's permissions allow (see https://{host}/settings/apps/authorizations)"
        )
    } else {
        "may do what its permissions allow, which GitHub does not tell for this kind of token"
            .to_owned()
    })
}

/// Whether `token` is a fine-grained token, or a GitHub App's user token from its own device
/// login (`device`: a pasted one would die in 8 hours without its refresh token), that reads a
/// private repository (of `owner`, when named), or why it is refused.
pub async fn check(
    site: &Site<'_>,
    token: &Secret<String>,
    identity: &Identity,
    owner: Option<&str>,
    device: bool,
) -> Result<ReadOnlyCheck, Unreachable> {
    let make = format!(
        "create a fine-grained token at {}/new with Contents: Read-only",
        settings(site.host)
    );
    if let Some(scopes) = &identity.scopes {
        let why = if scopes.iter().any(|s| s == "repo") {
            "it is a classic token, whose scope repo also writes to every private repository you can reach (GitHub has no read-only classic scope for private code)"
        } else {
            "it is a classic token, and a classic token reads private repositories only with the scope repo, which also writes to them (for public repositories alone, log in with --public)"
        };
        return Ok(ReadOnlyCheck::Refused(format!("{why}; {make}")));
    }
    // A GitHub App's user token reads what the app's permissions and the user's access allow.
    let app = device && token.expose().starts_with("ghu_");
    if !token.expose().starts_with("github_pat_") && !app {
        return Ok(ReadOnlyCheck::Refused(format!(
            "it is not a fine-grained personal access token (github_pat_…) or a GitHub App's user token (ghu_…); {make}"
        )));
    }

    let api = api_base(site.host, site.base);
    let auth = Secret::new(format!("token {}", token.expose()));
    let auth = &auth;
    let get = |url: Url| async move {
        let response = site.http.get(&url, Some(("authorization", auth))).await?;
        Ok::<_, Unreachable>((url, response))
    };
    let mut url = join(&api, "user/repos");
    url.set_query(Some("per_page=100"));
    let (url, response) = get(url).await?;
    let repos: Option<Value> = serde_json::from_slice(&response.body).ok();
    let Some(repos) = repos
        .as_ref()
        .and_then(Value::as_array)
        .filter(|_| response.status.is_success())
    else {
        return Err(Unreachable(format!(
            "{url} answered HTTP {} without a list of repositories",
            response.status.as_u16()
        )));
    };
    let Some(repo) = repos.iter().find_map(|r| private_repo(r, owner)) else {
        let of = owner.map(|o| format!(" of {o}")).unwrap_or_default();
        let grant = match app {
            true => "the GitHub App's owner installs it on the repositories Nix fetches, with the permission Contents: Read-only".to_owned(),
            false => format!(
                "at {} pick {} as the resource owner and the repositories Nix fetches",
                settings(site.host),
                owner.unwrap_or("their owner")
            ),
        };
        return Ok(ReadOnlyCheck::Refused(format!(
            "the token reaches no private repository{of}, so Nix could read nothing private with it; {grant} (for public repositories alone, log in with --public)"
        )));
    };
    let mut url = join(&api, &format!("repos/{repo}/commits"));
    url.set_query(Some("per_page=1"));
    let (url, response) = get(url).await?;
    Ok(match response.status.as_u16() {
        // 409: the repository is empty, which a token that may read it is told.
        200 | 409 => ReadOnlyCheck::Reads(format!("reads the contents of {repo}")),
        403 | 404 if app => ReadOnlyCheck::Refused(format!(
            "the token cannot read the contents of {repo}; the GitHub App needs the permission Contents: Read-only (its owner sets it in the app's settings)"
        )),
        403 | 404 => ReadOnlyCheck::Refused(format!(
            "the token cannot read the contents of {repo}; give it the permission Contents: Read-only at {}",
            settings(site.host)
        )),
        code => return Err(Unreachable(format!("{url} answered HTTP {code}"))),
    })
}

/// `OWNER/REPO` of a private repository in GitHub's answer, when `owner` (if named) owns it; only
/// names GitHub allows, since the name goes into a URL.
fn private_repo(repo: &Value, owner: Option<&str>) -> Option<String> {
    let name = repo.get("full_name")?.as_str()?;
    let (login, short) = name.split_once('/')?;
    let allowed = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let owned = owner.is_none_or(|o| o.eq_ignore_ascii_case(login));
    (repo.get("private") == Some(&Value::Bool(true)) && owned && allowed(login) && allowed(short))
        .then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_token_page_is_pre_filled_for_the_owner() {
        let entry = entry("github.com", Some("my org"));
        let page = entry.page.unwrap();
        assert!(
            page.starts_with(
                "https://github.com/settings/personal-access-tokens/new?name=Nix+%28read-only%29&"
            ),
            "{page}"
        );
        assert!(
            page.ends_with("&target_name=my+org&contents=read"),
            "{page}"
        );
        assert!(entry.advice.unwrap().contains("resource owner `my org`"));
        let anyone = super::entry("ghe.corp.example", None);
        assert!(!anyone.page.unwrap().contains("target_name"));
    }

    #[test]
    fn only_private_repositories_with_plain_names_are_read() {
        let repo = |name: &str, private: bool| json!({"full_name": name, "private": private});
        assert_eq!(
            private_repo(&repo("Octo-Org/app", true), Some("octo-org")).as_deref(),
            Some("Octo-Org/app")
        );
        assert_eq!(private_repo(&repo("octo-org/app", false), None), None);
        assert_eq!(
            private_repo(&repo("other/app", true), Some("octo-org")),
            None
        );
        assert_eq!(private_repo(&repo("octo/../../x", true), None), None);
        assert_eq!(private_repo(&repo("octo/..", true), None), None);
    }
}
