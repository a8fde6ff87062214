//! Stand-ins for GitHub's and GitLab's GraphQL APIs in front of their REST APIs
//! ([`fake_repos`](super::fake_repos)), holding the same repositories, as the real ones answer:
//! - GitHub, `POST /api/graphql`: a token is required (401 "This endpoint requires you to be
//!   authenticated." without one, "Bad credentials" for an unknown one); each aliased
//!   `repository(owner:, name:)` is answered at its alias, a repository the caller may not read or
//!   that does not exist as `null` there with an error `{"type": "NOT_FOUND", "path": [alias]}`.
//! - GitLab, `POST /api/graphql`: anonymous callers see public projects; `projects(fullPaths:,
//!   first:, after:)` answers the projects the caller may read among at most 50 paths, in pages
//!   (100 nodes at most, fewer where the stand-in is told) with `pageInfo`; an unknown token is
//!   refused with 401 "Invalid token", one without `read_api` with 403.
//!
//! Queries are parsed for real ([`graphql`](super::graphql)). Each stand-in answers every request
//! after a delay, counts the requests in flight at once (the most seen), and can be told to refuse
//! the next requests as a rate limit does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::fake_forge::{FakeServer, Reply, Request};
use super::fake_repos::{Holdings, github_rest, gitlab_answer};
use super::graphql::{self, Field, Schema, refusal, select};

/// A stand-in: the server, and what it saw.
pub struct Forge {
    pub server: FakeServer,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    now: AtomicUsize,
    most: AtomicUsize,
    refusals: Mutex<Vec<Reply>>,
}

impl Forge {
    fn start(delay: Duration, answer: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let state = Arc::new(State::default());
        let seen = state.clone();
        let server = FakeServer::start(move |r| {
            let now = seen.now.fetch_add(1, Ordering::SeqCst) + 1;
            seen.most.fetch_max(now, Ordering::SeqCst);
            // The forge's own time to answer (not a test waiting for a clock).
            std::thread::sleep(delay);
            let refusal = seen.refusals.lock().unwrap().pop();
            let reply = refusal.unwrap_or_else(|| answer(r));
            seen.now.fetch_sub(1, Ordering::SeqCst);
            reply
        });
        Forge { server, state }
    }

    /// The most requests that were in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.state.most.load(Ordering::SeqCst)
    }

    /// The next requests are answered with `replies` (the first given first), whatever they ask.
    pub fn refuse_next(&self, replies: Vec<Reply>) {
        let mut queue = self.state.refusals.lock().unwrap();
        queue.extend(replies.into_iter().rev());
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The GraphQL requests received.
    pub fn graphql_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/api/graphql")
            .collect()
    }
}

/// GitHub's answer to a secondary rate limit: 403, `retry-after` in seconds.
pub fn github_secondary_limit(retry_after: u64) -> Reply {
    Reply::json(
        403,
        json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
               "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}),
    )
    .header("retry-after", &retry_after.to_string())
}

/// GitHub (an Enterprise Server layout: REST under `/api/v3`, GraphQL at `/api/graphql`) holding
/// `holdings`, answering after `delay`, with `anonymous` REST requests left this hour for callers
/// without a token.
pub fn github(holdings: Holdings, delay: Duration, anonymous: u64) -> Forge {
    let left = AtomicU64::new(anonymous);
    Forge::start(delay, move |r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/api/graphql") => github_graphql(&holdings, r),
        _ => github_rest(&holdings, &left, r),
    })
}

fn github_schema() -> Schema {
    HashMap::from([
        (
            "Query",
            vec![
                ("repository", Some("Repository")),
                ("rateLimit", Some("RateLimit")),
            ],
        ),
        (
            "Repository",
            vec![
                ("isPrivate", None),
                ("isArchived", None),
                ("nameWithOwner", None),
                ("visibility", None),
            ],
        ),
        (
            "RateLimit",
            vec![("cost", None), ("remaining", None), ("limit", None)],
        ),
    ])
}

fn github_graphql(holdings: &Holdings, r: &Request) -> Reply {
    let auth = r.header("authorization").unwrap_or("");
    let token = auth
        .split_once(' ')
        .filter(|(scheme, _)| matches!(scheme.to_ascii_lowercase().as_str(), "bearer" | "token"))
        .map(|(_, t)| t.to_owned());
    let docs = "https://docs.github.com/graphql";
    let Some(token) = token else {
        return Reply::json(
            401,
            json!({"message": "This endpoint requires you to be authenticated.", "documentation_url": docs}),
        );
    };
    if !holdings.knows(&token) {
        return Reply::json(
            401,
            json!({"message": "Bad credentials", "documentation_url": docs}),
        );
    }
    let fields = match graphql::parse(&r.body, &github_schema()) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let (mut data, mut errors) = (Map::new(), Vec::new());
    for f in &fields {
        let value = match f.name.as_str() {
            "rateLimit" => select(
                &f.fields,
                &json!({"cost": 1, "remaining": 4999, "limit": 5000}),
            ),
            _ => {
                let arg = |k: &str| f.args.get(k).and_then(Value::as_str).map(str::to_owned);
                let (Some(owner), Some(name)) = (arg("owner"), arg("name")) else {
                    let said = "Field 'repository' is missing required arguments: owner, name";
                    return refusal(said, f.line, f.column);
                };
                match holdings.find(&owner, &name) {
                    Some((full, public)) if public || holdings.reads(&token, &full) => {
                        let visibility = if public { "PUBLIC" } else { "PRIVATE" };
                        select(
                            &f.fields,
                            &json!({"isPrivate": !public, "isArchived": false,
                                    "nameWithOwner": full, "visibility": visibility}),
                        )
                    }
                    _ => {
                        errors.push(json!({
                            "type": "NOT_FOUND", "path": [f.key], "locations": f.location(),
                            "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'.")}));
                        Value::Null
                    }
                }
            }
        };
        data.insert(f.key.clone(), value);
    }
    let mut body = json!({ "data": data });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    Reply::json(200, body)
        .header("X-RateLimit-Limit", "5000")
        .header("X-RateLimit-Remaining", "4999")
}

/// GitLab (REST under `/api/v4`, GraphQL at `/api/graphql`) holding `holdings`, answering after
/// `delay`, with at most `page` projects a page.
pub fn gitlab(holdings: Holdings, delay: Duration, page: usize) -> Forge {
    Forge::start(delay, move |r| {
        let token = r
            .header("private-token")
            .or_else(|| {
                r.header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
            })
            .map(str::to_owned);
        let reply = match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/api/graphql") => gitlab_graphql(&holdings, r, token.as_deref(), page),
            _ => gitlab_answer(&holdings, r, token.as_deref()),
        };
        reply.header("X-Gitlab-Meta", r#"{"correlation_id":"x","version":"1"}"#)
    })
}

fn gitlab_schema() -> Schema {
    HashMap::from([
        ("Query", vec![("projects", Some("ProjectConnection"))]),
        (
            "ProjectConnection",
            vec![
                ("nodes", Some("Project")),
                ("pageInfo", Some("PageInfo")),
                ("count", None),
            ],
        ),
        (
            "Project",
            vec![
                ("fullPath", None),
                ("visibility", None),
                ("archived", None),
                ("name", None),
            ],
        ),
        (
            "PageInfo",
            vec![
                ("hasNextPage", None),
                ("endCursor", None),
                ("hasPreviousPage", None),
                ("startCursor", None),
            ],
        ),
    ])
}

fn gitlab_graphql(holdings: &Holdings, r: &Request, token: Option<&str>, page: usize) -> Reply {
    match token {
        Some(t) if !holdings.knows(t) => {
            return Reply::json(401, json!({"errors": [{"message": "Invalid token"}]}));
        }
        Some(t) if holdings.no_api.iter().any(|n| n == t) => {
            return Reply::json(
                403,
                json!({"errors": [{"message": "Insufficient scope: this request requires the api or read_api scope"}]}),
            );
        }
        _ => {}
    }
    let fields = match graphql::parse(&r.body, &gitlab_schema()) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let mut data = Map::new();
    for f in &fields {
        let paths: Vec<String> = f
            .args
            .get("fullPaths")
            .and_then(Value::as_array)
            .map(|p| {
                p.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        if paths.len() > 50 {
            return Reply::json(
                200,
                json!({"data": {f.key.clone(): null}, "errors": [{"message": "You cannot provide more than 50 full paths",
                        "locations": f.location(), "path": [f.key]}]}),
            );
        }
        let readable: Vec<(String, bool)> = holdings
            .repos
            .iter()
            .filter(|(full, public)| {
                paths.contains(&full.to_lowercase())
                    && (*public || token.is_some_and(|t| holdings.reads(t, full)))
            })
            .cloned()
            .collect();
        data.insert(f.key.clone(), connection(f, &readable, page));
    }
    Reply::json(200, json!({ "data": data }))
}

/// One page of `projects` as `f` asks for it (`first`, `after`).
fn connection(f: &Field, readable: &[(String, bool)], page: usize) -> Value {
    let first = f.args.get("first").and_then(Value::as_u64).unwrap_or(100) as usize;
    let cursor =
        |n: usize| base64::engine::general_purpose::STANDARD.encode(format!("{{\"id\":\"{n}\"}}"));
    let start = f
        .args
        .get("after")
        .and_then(Value::as_str)
        .and_then(|c| (0..=readable.len()).find(|n| cursor(*n) == c))
        .unwrap_or(0);
    let end = (start + first.min(page).min(100)).min(readable.len());
    let mut out = Map::new();
    for inner in &f.fields {
        let value = match inner.name.as_str() {
            "nodes" => Value::Array(
                readable[start..end]
                    .iter()
                    .map(|(full, public)| {
                        let name = full.rsplit('/').next().unwrap_or("");
                        let visibility = if *public { "public" } else { "private" };
                        select(
                            &inner.fields,
                            &json!({"fullPath": full, "visibility": visibility,
                                    "archived": false, "name": name}),
                        )
                    })
                    .collect(),
            ),
            "pageInfo" => select(
                &inner.fields,
                &json!({"hasNextPage": end < readable.len(), "endCursor": cursor(end),
                        "hasPreviousPage": start > 0, "startCursor": cursor(start)}),
            ),
            _ => json!(readable.len()),
        };
        out.insert(inner.key.clone(), value);
    }
    Value::Object(out)
}
