//! A GitHub App with expiring user tokens, as GitHub (or a GitHub Enterprise Server at `/api/v3`)
//! serves it (GitHub's "Generating a user access token for a GitHub App" and "Refreshing user
//! access tokens"): the device flow at `/login/device/code` and `/login/oauth/access_token` issues
//! a `ghu_` user token that lives `expires_in` 28800 seconds (8 hours) and a `ghr_` refresh token
//! that lives `refresh_token_expires_in` 15897600 seconds (six months). A refresh
//! (`grant_type=refresh_token` with the app's `client_id`; no client secret for a token made
//! through the device flow) answers a new pair, after which the old refresh token and the old user
//! token no longer work: each refresh token works once. Errors come in HTTP 200 answers
//! (`bad_refresh_token`). The API accepts only the current user token and sends no
//! `X-OAuth-Scopes` for it (an app's permissions are not scopes): `/user`, `/user/repos` (the
//! private `octo-org/app`, where the app is installed) and `/repos/octo-org/app/commits`, which
//! answers 403 "Resource not accessible by integration" unless the app has Contents: read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::fake_forge::{FakeServer, Reply};

/// The app's client id.
pub const CLIENT_ID: &str = "Iv1.0123456789abcdef";

/// The user token of generation `n`, shaped as GitHub's (`ghu_` and 36 characters).
pub fn user_token(n: u32) -> String {
    format!("ghu_{n:0>36}")
}

/// The refresh token of generation `n` (`ghr_` and 76 characters).
pub fn refresh_token(n: u32) -> String {
    format!("ghr_{n:0>76}")
}

/// The stand-in; see the module documentation.
pub struct GithubApp {
    pub server: FakeServer,
    /// The current generation, and whether every refresh token was revoked.
    state: Arc<Mutex<(u32, bool)>>,
    lifetime: Arc<AtomicU64>,
    refresh_lifetime: Arc<AtomicU64>,
    /// Every refresh token presented, in order.
    presented: Arc<Mutex<Vec<String>>>,
    /// The app has the permission Contents: read.
    contents: Arc<std::sync::atomic::AtomicBool>,
}

impl GithubApp {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new((1u32, false)));
        let lifetime = Arc::new(AtomicU64::new(28_800));
        let refresh_lifetime = Arc::new(AtomicU64::new(15_897_600));
        let presented = Arc::new(Mutex::new(Vec::new()));
        let contents = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let reads = contents.clone();
        let (shared, seconds, refresh_seconds, seen) = (
            state.clone(),
            lifetime.clone(),
            refresh_lifetime.clone(),
            presented.clone(),
        );
        let server = FakeServer::start(move |r| {
            let mut state = shared.lock().unwrap();
            let pair = |n: u32| {
                json!({
                    "access_token": user_token(n),
                    "expires_in": seconds.load(Ordering::SeqCst),
                    "refresh_token": refresh_token(n),
                    "refresh_token_expires_in": refresh_seconds.load(Ordering::SeqCst),
                    "scope": "",
                    "token_type": "bearer",
                })
            };
            let path = r.path.split('?').next().unwrap_or_default();
            match (r.method.as_str(), path) {
                ("POST", "/login/device/code")
                    if r.form("client_id").as_deref() == Some(CLIENT_ID) =>
                {
                    Reply::json(
                        200,
                        json!({
                            "device_code": "3584d83530557fdd1f46af8289938c8ef79f9dc5",
                            "user_code": "WDJB-MJHT",
                            "verification_uri": "https://github.com/login/device",
                            "expires_in": 900,
                            "interval": 1,
                        }),
                    )
                }
                ("POST", "/login/oauth/access_token") => {
                    let client = r.form("client_id");
                    match r.form("grant_type").as_deref() {
                        _ if client.as_deref() != Some(CLIENT_ID) => {
                            Reply::json(200, json!({"error": "incorrect_client_credentials"}))
                        }
                        Some("urn:ietf:params:oauth:grant-type:device_code") => {
                            Reply::json(200, pair(state.0))
                        }
                        Some("refresh_token") => {
                            let given = r.form("refresh_token").unwrap_or_default();
                            seen.lock().unwrap().push(given.clone());
                            if !state.1 && given == refresh_token(state.0) {
                                state.0 += 1;
                                Reply::json(200, pair(state.0))
                            } else {
                                Reply::json(
                                    200,
                                    json!({
                                        "error": "bad_refresh_token",
                                        "error_description": "The refresh token passed is incorrect or expired.",
                                        "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-refresh-token"
                                    }),
                                )
                            }
                        }
                        _ => Reply::json(200, json!({"error": "unsupported_grant_type"})),
                    }
                }
                _ if r.header("authorization")
                    != Some(format!("token {}", user_token(state.0)).as_str()) =>
                {
                    Reply::json(401, json!({"message": "Bad credentials"}))
                }
                ("GET", "/api/v3/user") => Reply::json(200, json!({"login": "octocat"})),
                ("GET", "/api/v3/user/repos") => {
                    Reply::json(200, json!([{"full_name": "octo-org/app", "private": true}]))
                }
                ("GET", "/api/v3/repos/octo-org/app/commits") if reads.load(Ordering::SeqCst) => {
                    Reply::json(
                        200,
                        json!([{"sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"}]),
                    )
                }
                ("GET", "/api/v3/repos/octo-org/app/commits") => Reply::json(
                    403,
                    json!({"message": "Resource not accessible by integration"}),
                ),
                _ => Reply::json(401, json!({"message": "Bad credentials"})),
            }
        });
        GithubApp {
            server,
            state,
            lifetime,
            refresh_lifetime,
            presented,
            contents,
        }
    }

    /// Takes the permission Contents: read from the app (or gives it back).
    pub fn set_contents(&self, read: bool) {
        self.contents.store(read, Ordering::SeqCst);
    }

    /// User tokens issued from now on last this many seconds (GitHub's: 28800).
    pub fn set_lifetime(&self, seconds: u64) {
        self.lifetime.store(seconds, Ordering::SeqCst);
    }

    /// Refresh tokens issued from now on last this many seconds (GitHub's: 15897600).
    pub fn set_refresh_lifetime(&self, seconds: u64) {
        self.refresh_lifetime.store(seconds, Ordering::SeqCst);
    }

    /// Makes every refresh token invalid, as the user revoking the app's authorization does.
    pub fn revoke_all(&self) {
        self.state.lock().unwrap().1 = true;
    }

    /// Every refresh token presented so far, in order.
    pub fn presented(&self) -> Vec<String> {
        self.presented.lock().unwrap().clone()
    }
}
