//! Many projects in one question: GitLab's GraphQL API (`POST BASE/api/graphql`, GitLab 16.6 and
//! later) finds projects by their full paths, `projects(fullPaths: […])`, in pages of at most 100
//! nodes, and takes at most 50 paths a query. A project the caller may not read, or that does not
//! exist, is simply absent from the nodes — the 404 of the REST API. It answers without a token
//! too (public projects only); a token goes as `Authorization: Bearer`, for a personal token as
//! for an OAuth one. A server too old for `fullPaths`, or one that refuses the query as a whole
//! (an invalid token, a token without `read_api`), leaves each project to the REST API.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::http::{Response, Unreachable, join};
use crate::providers::forge::Site;
use crate::providers::shared::{BatchAnswer, RepoAccess, json};
use crate::secret::Secret;

/// At most this many paths in one query.
pub const BATCH: usize = 50;

/// The most pages followed for one query (50 paths fit in one page of 100; a server that keeps
/// saying there is more is not believed for long).
const MAX_PAGES: usize = 5;

const QUERY: &str = "query Access($paths: [String!], $after: String) { projects(fullPaths: $paths, first: 100, after: $after) { nodes { fullPath visibility } pageInfo { hasNextPage endCursor } } }";

/// The full path of a project as Nix names it (`group%2Fsub`, `repo`): `group/sub/repo`.
fn full_path(owner: &str, repo: &str) -> String {
    format!("{}/{repo}", owner.replace("%2F", "/").replace("%2f", "/"))
}

/// Asks about `repos` (at most [`BATCH`]) with `token` (as stored for Nix) or none.
pub async fn ask(
    site: &Site<'_>,
    repos: &[(String, String)],
    token: Option<(bool, &str)>,
) -> Result<BatchAnswer, Unreachable> {
    let paths: Vec<String> = repos.iter().map(|(o, r)| full_path(o, r)).collect();
    let url = join(site.base, "api/graphql");
    let auth = token.map(|(_, bare)| Secret::new(format!("Bearer {bare}")));
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let body = json!({"query": QUERY, "variables": {"paths": paths, "after": after}});
        let response = site
            .http
            .post_json(&url, &body, auth.as_ref().map(|a| ("authorization", a)))
            .await?;
        let page = match page(&response) {
            Ok(page) => page,
            Err(answer) => return Ok(answer),
        };
        for (path, public) in page.nodes {
            seen.insert(path.to_lowercase(), public);
        }
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    let each = paths
        .iter()
        .map(|p| match seen.get(&p.to_lowercase()) {
            Some(true) => RepoAccess::Public,
            Some(false) => RepoAccess::Private,
            None => RepoAccess::Hidden,
        })
        .collect();
    Ok(BatchAnswer::Each(each))
}

/// One page of an answer: each project's full path and whether it is public, and the cursor of
/// the next page.
struct Page {
    nodes: Vec<(String, bool)>,
    next: Option<String>,
}

fn page(response: &Response) -> Result<Page, BatchAnswer> {
    let status = response.status.as_u16();
    if status == 429 {
        return Err(BatchAnswer::Limited {
            why: "GitLab's rate limit refused it (HTTP 429)".into(),
            wait: response.number("retry-after"),
        });
    }
    let projects = json(response)
        .filter(|_| status == 200)
        .and_then(|b| b.get("data")?.get("projects").cloned())
        .filter(Value::is_object);
    let Some(projects) = projects else {
        return Err(BatchAnswer::Unbatched(format!(
            "GraphQL answered HTTP {status} without projects"
        )));
    };
    let nodes = projects
        .get("nodes")
        .and_then(Value::as_array)
        .map(|n| {
            n.iter()
                .filter_map(|p| {
                    let path = p.get("fullPath")?.as_str()?.to_owned();
                    let visibility = p.get("visibility")?.as_str()?;
                    Some((path, visibility == "public"))
                })
                .collect()
        })
        .unwrap_or_default();
    let info = projects.get("pageInfo");
    let more = info
        .and_then(|i| i.get("hasNextPage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let next = info
        .and_then(|i| i.get("endCursor"))
        .and_then(Value::as_str)
        .filter(|_| more)
        .map(str::to_owned);
    Ok(Page { nodes, next })
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
    fn pages_and_refusals() {
        let body = json!({"data": {"projects": {
            "nodes": [{"fullPath": "Group/Sub/App", "visibility": "private"},
                      {"fullPath": "group/lib", "visibility": "public"}],
            "pageInfo": {"hasNextPage": true, "endCursor": "eyJpZCI6IjEifQ"}}}});
        let page = page(&answer(200, body)).ok().unwrap();
        assert_eq!(
            page.nodes,
            vec![("Group/Sub/App".into(), false), ("group/lib".into(), true)]
        );
        assert_eq!(page.next.as_deref(), Some("eyJpZCI6IjEifQ"));
        let old = json!({"errors": [{"message": "Field 'projects' doesn't accept argument 'fullPaths'"}]});
        assert!(matches!(
            super::page(&answer(200, old)),
            Err(BatchAnswer::Unbatched(_))
        ));
        let invalid = json!({"errors": [{"message": "Invalid token"}]});
        assert!(matches!(
            super::page(&answer(401, invalid)),
            Err(BatchAnswer::Unbatched(_))
        ));
        assert!(matches!(
            super::page(&answer(429, json!({}))),
            Err(BatchAnswer::Limited { .. })
        ));
        assert_eq!(full_path("group%2Fsub", "app"), "group/sub/app");
    }
}
