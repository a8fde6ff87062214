//! Many repositories in one question: GitHub's GraphQL API (`POST https://api.github.com/graphql`,
//! or `BASE/api/graphql` on a GitHub Enterprise Server) names each repository once under an alias
//! (`r0: repository(owner: $o0, name: $n0) { ...access }`), and costs one point however many it
//! names. A repository the caller may not read, or that does not exist, comes back as `null` at
//! its alias with an error `{"type": "NOT_FOUND", "path": [alias]}` — the 404 of the REST API.
//! GraphQL needs a token; an answer that refuses the query as a whole (HTTP 401, no `data`) leaves
//! each repository to the REST API.

use serde_json::{Map, Value, json};

use super::limits;
use crate::http::{Response, Unreachable, join};
use crate::providers::forge::Site;
use crate::providers::shared::{BatchAnswer, RepoAccess, json};
use crate::secret::Secret;
use crate::ui::printable;

/// At most this many repositories in one query (GitHub limits a query's nodes, not its aliases;
/// a hundred stays far inside).
pub const BATCH: usize = 100;

/// Where the GraphQL API of `host` is.
pub fn url(host: &str, base: &reqwest::Url) -> reqwest::Url {
    if host == "github.com" && base.as_str() == "https://github.com/" {
        reqwest::Url::parse("https://api.github.com/graphql").expect("a valid URL")
    } else {
        join(base, "api/graphql")
    }
}

/// The query about `count` repositories, each under the alias `rI` with the variables `oI`, `nI`.
fn query(count: usize) -> String {
    let vars: Vec<String> = (0..count)
        .map(|i| format!("$o{i}: String!, $n{i}: String!"))
        .collect();
    let fields: Vec<String> = (0..count)
        .map(|i| format!("r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...access }}"))
        .collect();
    format!(
        "query Access({}) {{ {} }} fragment access on Repository {{ isPrivate }}",
        vars.join(", "),
        fields.join(" ")
    )
}

/// Asks about `repos` in one query with `token`.
pub async fn ask(
    site: &Site<'_>,
    repos: &[(String, String)],
    token: &Secret<String>,
) -> Result<BatchAnswer, Unreachable> {
    let mut variables = Map::new();
    for (i, (owner, repo)) in repos.iter().enumerate() {
        variables.insert(format!("o{i}"), json!(owner));
        variables.insert(format!("n{i}"), json!(repo));
    }
    let body = json!({"query": query(repos.len()), "variables": variables});
    let auth = Secret::new(format!("bearer {}", token.expose()));
    let response = site
        .http
        .post_json(
            &url(site.host, site.base),
            &body,
            Some(("authorization", &auth)),
        )
        .await?;
    Ok(answers(&response, repos.len()))
}

/// What the answer to a query about `count` repositories says of each.
fn answers(response: &Response, count: usize) -> BatchAnswer {
    if let Some(limit) = limits::of(response) {
        return BatchAnswer::Limited {
            why: limit.why,
            wait: limit.wait,
        };
    }
    let status = response.status.as_u16();
    let Some(body) = json(response).filter(|_| status == 200) else {
        return BatchAnswer::Unbatched(format!("GraphQL answered HTTP {status}"));
    };
    let errors: Vec<&Value> = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|e| e.iter().collect())
        .unwrap_or_default();
    let kind = |e: &Value| e.get("type").and_then(Value::as_str).map(str::to_owned);
    if errors
        .iter()
        .any(|e| kind(e).as_deref() == Some("RATE_LIMITED"))
    {
        return BatchAnswer::Limited {
            why: "GitHub's GraphQL rate limit is used up".into(),
            wait: limits::reset_in(response),
        };
    }
    let Some(data) = body.get("data").and_then(Value::as_object) else {
        return BatchAnswer::Unbatched("GraphQL refused the query as a whole".into());
    };
    let error_at = |alias: &str| {
        errors.iter().find(|e| {
            e.get("path")
                .and_then(Value::as_array)
                .and_then(|p| p.first())
                .and_then(Value::as_str)
                == Some(alias)
        })
    };
    let each = (0..count)
        .map(|i| {
            let alias = format!("r{i}");
            let private = data
                .get(&alias)
                .and_then(|r| r.get("isPrivate"))
                .and_then(Value::as_bool);
            match (private, error_at(&alias).map(|e| kind(e))) {
                (Some(true), _) => RepoAccess::Private,
                (Some(false), _) => RepoAccess::Public,
                (None, Some(Some(t))) if t == "NOT_FOUND" => RepoAccess::Hidden,
                (None, Some(t)) => RepoAccess::Forbidden(format!(
                    "GraphQL {}",
                    printable(t.as_deref().unwrap_or("error"))
                )),
                (None, None) => RepoAccess::Unreachable(
                    "did not answer like GitHub about the repository".into(),
                ),
            }
        })
        .collect();
    BatchAnswer::Each(each)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn answer(status: u16, body: Value) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn each_alias_gets_the_verdict_of_its_rest_answer() {
        let body = json!({
            "data": {"r0": {"isPrivate": true}, "r1": null, "r2": {"isPrivate": false}, "r3": null},
            "errors": [
                {"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve to a Repository with the name 'a/b'."},
                {"type": "FORBIDDEN", "path": ["r3"], "message": "SAML enforcement"}
            ]
        });
        assert_eq!(
            answers(&answer(200, body), 4),
            BatchAnswer::Each(vec![
                RepoAccess::Private,
                RepoAccess::Hidden,
                RepoAccess::Public,
                RepoAccess::Forbidden("GraphQL FORBIDDEN".into()),
            ])
        );
    }

    #[test]
    fn a_query_refused_as_a_whole_is_asked_again_alone() {
        let bad = answer(401, json!({"message": "Bad credentials"}));
        assert!(matches!(answers(&bad, 1), BatchAnswer::Unbatched(_)));
        let parse = answer(
            200,
            json!({"errors": [{"message": "Parse error on \"}\""}]}),
        );
        assert!(matches!(answers(&parse, 1), BatchAnswer::Unbatched(_)));
        let limited = answer(
            200,
            json!({"data": null, "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}),
        );
        assert!(matches!(answers(&limited, 1), BatchAnswer::Limited { .. }));
    }

    #[test]
    fn the_query_names_each_repository_under_its_alias() {
        assert_eq!(
            query(2),
            "query Access($o0: String!, $n0: String!, $o1: String!, $n1: String!) { r0: repository(owner: $o0, name: $n0) { ...access } r1: repository(owner: $o1, name: $n1) { ...access } } fragment access on Repository { isPrivate }"
        );
        let gh = reqwest::Url::parse("https://github.com").unwrap();
        assert_eq!(
            url("github.com", &gh).as_str(),
            "https://api.github.com/graphql"
        );
        let ghes = reqwest::Url::parse("https://ghe.example/").unwrap();
        assert_eq!(
            url("ghe.example", &ghes).as_str(),
            "https://ghe.example/api/graphql"
        );
    }
}
