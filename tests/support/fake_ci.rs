//! Stand-ins for the services a CI job's identity is traded with, all on one server on 127.0.0.1:
//!
//! - the GitHub Actions ID-token endpoint (`GET /idtoken?api-version=2.0&audience=AUD` with
//!   `Authorization: Bearer REQUEST_TOKEN`, answering `{"value": JWT}`; the JWT carries `iss`,
//!   `aud`, `sub`, `repository` and `exp`);
//! - GitHub's REST API for the job's installation token (`GET /api/v3/user` refuses it with 403,
//!   `GET /api/v3/installation/repositories` lists what it reads);
//! - prefix.dev's mint (`POST /api/oidc/mint_token` with `{"token": ID}` of audience `prefix.dev`;
//!   the body of the answer is the bearer token);
//! - octo-sts (`GET /sts/exchange?scope=…&identity=…` with an ID token of audience `octo-sts.dev`
//!   as bearer → `{"token": "ghs_…"}`) and GitHub's `DELETE /api/v3/installation/token`;
//! - a FlakeHub-like cache (`GET /cache/nix-cache-info`) that accepts basic auth
//!   `flakehub:<JWT>` for an ID token of audience `api.flakehub.com` only until its `exp`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::fake_cache::{CACHE_INFO, basic};
use super::fake_forge::{FakeServer, Reply, Request};

/// The request token the ID-token endpoint wants as bearer.
pub const REQUEST_TOKEN: &str = "actions-request-token-0123456789";
/// The job's installation token (`GITHUB_TOKEN`).
pub const JOB_TOKEN: &str = "ghs_jobtoken0123456789abcdefABCDEF01";
/// The repository the workflow runs in.
pub const REPOSITORY: &str = "acme/app";

/// What the stand-ins handed out and were told.
#[derive(Default)]
pub struct CiState {
    /// Every JWT issued by the ID-token endpoint.
    pub id_tokens: Vec<String>,
    /// Every token minted by the prefix.dev stand-in.
    pub minted: Vec<String>,
    /// Every installation token octo-sts handed out, and those revoked.
    pub octo: Vec<String>,
    pub revoked: Vec<String>,
    /// What octo-sts and the mint answer as the token instead of one they make (a hostile or
    /// broken service), when set.
    pub forced_token: Option<String>,
    /// What the ID-token endpoint answers as the ID token instead of a JWT, when set.
    pub forced_id_token: Option<String>,
}

/// The running stand-ins.
pub struct FakeCi {
    pub server: FakeServer,
    pub state: Arc<Mutex<CiState>>,
    lifetime: Arc<AtomicU64>,
    minted_lifetime: Arc<AtomicU64>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A JWT-shaped token (the signature is not checked by anyone here) with these claims.
pub fn jwt(claims: &serde_json::Value) -> String {
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        part(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        part(claims),
        URL_SAFE_NO_PAD.encode(format!("signature-{}", claims["jti"]))
    )
}

/// The claims of a JWT this module made.
pub fn claims(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The query parameter `key` of a request path.
fn query(path: &str, key: &str) -> Option<String> {
    let (_, q) = path.split_once('?')?;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.replace("%2F", "/"))
    })
}

impl FakeCi {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(CiState::default()));
        let lifetime = Arc::new(AtomicU64::new(300));
        let minted_lifetime = Arc::new(AtomicU64::new(3600));
        let serial = Arc::new(AtomicU64::new(0));
        let server = {
            let (state, lifetimes) = (state.clone(), [lifetime.clone(), minted_lifetime.clone()]);
            FakeServer::start(move |r| answer(r, &state, &lifetimes, &serial))
        };
        FakeCi {
            server,
            state,
            lifetime,
            minted_lifetime,
        }
    }

    /// How many seconds a token minted by the prefix.dev stand-in lives from now on (0: its `exp`
    /// is the second it was minted in, which a watcher renews at once).
    pub fn set_minted_lifetime(&self, seconds: u64) {
        self.minted_lifetime.store(seconds, Ordering::SeqCst);
    }

    /// How many seconds an ID token lives from now on.
    pub fn set_lifetime(&self, seconds: u64) {
        self.lifetime.store(seconds, Ordering::SeqCst);
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL`, already carrying its `api-version`, as GitHub hands it.
    pub fn id_token_url(&self) -> String {
        format!("{}/idtoken?api-version=2.0", self.server.url)
    }

    /// An ID token for `audience`, as GitLab hands one to a job in a variable.
    pub fn issue(&self, audience: &str) -> String {
        let token = jwt(&serde_json::json!({
            "iss": "https://gitlab.example",
            "aud": audience,
            "sub": format!("project_path:{REPOSITORY}:ref_type:branch:ref:main"),
            "repository": REPOSITORY,
            "jti": format!("gl-{}", self.state().id_tokens.len()),
            "exp": now() + self.lifetime.load(Ordering::SeqCst),
        }));
        self.state().id_tokens.push(token.clone());
        token
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, CiState> {
        self.state.lock().unwrap()
    }
}

/// The ID token a request carries as bearer, if this stand-in issued it for `audience` and it has
/// not expired.
fn valid_id_token(state: &CiState, bearer: Option<&str>, audience: &str) -> Option<String> {
    let token = bearer?.strip_prefix("Bearer ")?;
    let claims = claims(token)?;
    let fresh = claims["exp"].as_u64()? > now();
    (state.id_tokens.iter().any(|t| t == token) && fresh && claims["aud"] == audience)
        .then(|| token.to_owned())
}

/// `lifetimes`: an ID token's, then a minted token's.
fn answer(
    r: &Request,
    state: &Mutex<CiState>,
    lifetimes: &[Arc<AtomicU64>; 2],
    serial: &AtomicU64,
) -> Reply {
    let [lifetime, minted_lifetime] = lifetimes;
    let mut state = state.lock().unwrap();
    let route = r.path.split('?').next().unwrap_or("");
    match (r.method.as_str(), route) {
        ("GET", "/idtoken") => {
            if r.header("authorization") != Some(&format!("Bearer {REQUEST_TOKEN}")) {
                return Reply::json(401, serde_json::json!({"message": "bad request token"}));
            }
            let Some(audience) = query(&r.path, "audience") else {
                return Reply::json(400, serde_json::json!({"message": "no audience"}));
            };
            let n = serial.fetch_add(1, Ordering::SeqCst);
            let token = jwt(&serde_json::json!({
                "iss": "https://token.actions.githubusercontent.com",
                "aud": audience,
                "sub": format!("repo:{REPOSITORY}:ref:refs/heads/main"),
                "repository": REPOSITORY,
                "repository_owner": "acme",
                "jti": format!("id-{n}"),
                "iat": now(),
                "exp": now() + lifetime.load(Ordering::SeqCst),
            }));
            state.id_tokens.push(token.clone());
            let token = state.forced_id_token.clone().unwrap_or(token);
            Reply::json(200, serde_json::json!({"count": 1, "value": token}))
        }
        ("GET", "/api/v3/user") => Reply::json(
            403,
            serde_json::json!({"message": "Resource not accessible by integration"}),
        ),
        ("GET", "/api/v3/installation/repositories") => {
            if r.header("authorization") != Some(&format!("token {JOB_TOKEN}")) {
                return Reply::json(401, serde_json::json!({"message": "Bad credentials"}));
            }
            Reply::json(
                200,
                serde_json::json!({"total_count": 1, "repositories": [{"full_name": REPOSITORY, "private": true}]}),
            )
        }
        ("POST", "/api/oidc/mint_token") => {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            let id = body["token"].as_str().unwrap_or("");
            if valid_id_token(&state, Some(&format!("Bearer {id}")), "prefix.dev").is_none() {
                return Reply::json(401, serde_json::json!({"error": "invalid id token"}));
            }
            let n = serial.fetch_add(1, Ordering::SeqCst);
            let minted = jwt(
                &serde_json::json!({"sub": REPOSITORY, "jti": format!("pfx-{n}"), "exp": now() + minted_lifetime.load(Ordering::SeqCst)}),
            );
            state.minted.push(minted.clone());
            let minted = state.forced_token.clone().unwrap_or(minted);
            Reply {
                status: 200,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: minted,
            }
        }
        ("GET", "/sts/exchange") => {
            if valid_id_token(&state, r.header("authorization"), "octo-sts.dev").is_none() {
                return Reply::json(401, serde_json::json!({"message": "invalid id token"}));
            }
            let (Some(scope), Some(identity)) =
                (query(&r.path, "scope"), query(&r.path, "identity"))
            else {
                return Reply::json(400, serde_json::json!({"message": "scope and identity"}));
            };
            let n = serial.fetch_add(1, Ordering::SeqCst);
            let token = format!("ghs_octo{n}{}{}", scope.len(), identity.len())
                + "abcdefghijklmnopqrstuvwx";
            state.octo.push(token.clone());
            let token = state.forced_token.clone().unwrap_or(token);
            Reply::json(200, serde_json::json!({"token": token}))
        }
        ("DELETE", "/api/v3/installation/token") => {
            let token = r
                .header("authorization")
                .and_then(|a| a.strip_prefix("token "))
                .unwrap_or("");
            if !state.octo.iter().any(|t| t == token) {
                return Reply::json(401, serde_json::json!({"message": "Bad credentials"}));
            }
            state.revoked.push(token.to_owned());
            Reply::html(204, "")
        }
        ("GET" | "HEAD", "/cache/nix-cache-info") => {
            let accepted = state.id_tokens.iter().any(|t| {
                r.header("authorization") == Some(&basic("flakehub", t))
                    && claims(t).is_some_and(|c| {
                        c["aud"] == "api.flakehub.com" && c["exp"].as_u64().unwrap_or(0) > now()
                    })
            });
            if !accepted {
                return Reply::html(401, "Unauthorized")
                    .header("WWW-Authenticate", "Basic realm=\"cache\"");
            }
            Reply {
                status: 200,
                headers: vec![("Content-Type".into(), "text/x-nix-cache-info".into())],
                body: CACHE_INFO.into(),
            }
        }
        _ => Reply::html(404, "not found"),
    }
}
