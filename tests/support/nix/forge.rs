//! Forges as Nix's fetchers meet them (`libfetchers/github.cc`), serving real git repositories:
//! GitHub's REST API (GitHub Enterprise Server's `/api/v3` layout, or github.com's `api.HOST`
//! one), GitLab's `/api/v4` with its device grant, and files behind basic auth. Private
//! repositories answer 404 without credentials and 401 with wrong ones, as the forges do.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::https::{Answer, Request};
use crate::support::git_server::make_repo;

/// A bare repository `OWNER/NAME.git` with one commit whose README says `readme`.
#[derive(Clone)]
pub struct Repo {
    pub owner: String,
    pub name: String,
    pub readme: String,
    pub rev: String,
    pub tree: String,
    pub bare: PathBuf,
}

impl Repo {
    pub fn new(root: &Path, owner: &str, name: &str, readme: &str) -> Self {
        let path = format!("{owner}/{name}.git");
        make_repo(root, &path, readme);
        let bare = root.join(path);
        Repo {
            owner: owner.into(),
            name: name.into(),
            readme: readme.into(),
            rev: git(&bare, &["rev-parse", "HEAD"]).trim().into(),
            tree: git(&bare, &["rev-parse", "HEAD^{tree}"]).trim().into(),
            bare,
        }
    }

    /// `git archive` of the commit as a .tar.gz whose one top directory is `prefix`.
    pub fn tarball(&self, prefix: &str) -> Vec<u8> {
        let out = Command::new("git")
            .args(["archive", "--format=tar.gz"])
            .arg(format!("--prefix={prefix}/"))
            .arg(&self.rev)
            .current_dir(&self.bare)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git archive");
        assert!(out.status.success(), "git archive failed");
        out.stdout
    }

    fn is(&self, owner: &str, name: &str, case_insensitive: bool) -> bool {
        if case_insensitive {
            self.owner.eq_ignore_ascii_case(owner) && self.name.eq_ignore_ascii_case(name)
        } else {
            self.owner == owner && self.name == name
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed");
    assert!(out.status.success(), "git {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Who may read what: the credential (the whole `Authorization` value for GitHub, `PAT:T` or
/// `Bearer T` for GitLab) and the owner whose repositories it reads.
pub type Grants = Vec<(String, String)>;

fn granted(grants: &Grants, credential: &str, owner: &str) -> bool {
    grants
        .iter()
        .any(|(c, o)| c == credential && o.eq_ignore_ascii_case(owner))
}

fn known(grants: &Grants, credential: &str) -> bool {
    grants.iter().any(|(c, _)| c == credential)
}

/// GitHub's REST API under `prefix` (`/api/v3` on GitHub Enterprise Server, empty on
/// `api.HOST`): `repos/O/R` describes the (private) repository, `repos/O/R/commits/REF` names
/// the commit and its tree, `repos/O/R/tarball/REV`
/// redirects to a one-time codeload URL that serves the tarball (top directory `O-R-SHORTREV`).
/// Credentials come as `Authorization: token T` (or `Bearer T`); owners and repository names
/// compare without regard to case, as on GitHub.
pub fn github(
    prefix: &'static str,
    repos: Vec<Repo>,
    grants: Grants,
) -> impl Fn(&Request) -> Answer + Send + Sync + 'static {
    let codeload: Mutex<HashSet<String>> = Mutex::default();
    move |r| {
        let credential = r
            .header("authorization")
            .map(|a| a.replacen("Bearer ", "token ", 1));
        if let Some(rest) = r.path.strip_prefix("/_codeload/") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let parts: Vec<&str> = path.split('/').collect();
            let once = query.strip_prefix("token=").unwrap_or_default().to_owned();
            return match repos
                .iter()
                .find(|p| parts.len() == 4 && p.is(parts[0], parts[1], true))
            {
                Some(repo) if codeload.lock().unwrap().remove(&once) => {
                    let short = &repo.rev[..7];
                    let top = format!("{}-{}-{short}", repo.owner, repo.name);
                    Answer::bytes("application/x-gzip", repo.tarball(&top))
                }
                _ => Answer::json(404, serde_json::json!({"message": "Not Found"})),
            };
        }
        let Some(rest) = r.path.strip_prefix(&format!("{prefix}/repos/")) else {
            return Answer::json(404, serde_json::json!({"message": "Not Found"}));
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let repo = repos
            .iter()
            .find(|p| matches!(parts.len(), 2 | 4) && p.is(parts[0], parts[1], true));
        let Some(repo) = repo else {
            return Answer::json(404, serde_json::json!({"message": "Not Found"}));
        };
        match credential.as_deref() {
            Some(c) if granted(&grants, c, &repo.owner) => {}
            Some(c) if !known(&grants, c) => {
                return Answer::json(401, serde_json::json!({"message": "Bad credentials"}));
            }
            _ => return Answer::json(404, serde_json::json!({"message": "Not Found"})),
        }
        match parts.get(2).copied().unwrap_or("") {
            // The repository itself, as `GET /repos/OWNER/REPO` describes it.
            "" => Answer::json(
                200,
                serde_json::json!({"full_name": format!("{}/{}", repo.owner, repo.name), "private": true}),
            ),
            "commits" => Answer::json(
                200,
                serde_json::json!({"sha": repo.rev, "commit": {"tree": {"sha": repo.tree}}}),
            ),
            "tarball" if parts[3] == repo.rev => {
                let once = format!("{:016x}", rand_u64());
                codeload.lock().unwrap().insert(once.clone());
                let host = r.header("host").unwrap_or_default();
                let location = format!(
                    "https://{host}/_codeload/{}/{}/legacy.tar.gz/{}?token={once}",
                    repo.owner, repo.name, repo.rev
                );
                Answer::json(302, serde_json::json!({})).header("Location", &location)
            }
            _ => Answer::json(404, serde_json::json!({"message": "Not Found"})),
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

/// GitLab's REST API: `projects/O%2FR` (the private project),
/// `projects/O%2FR/repository/commits?ref_name=REF` (the commit first) and
/// `projects/O%2FR/repository/archive.tar.gz?sha=REV` (top directory `R-REV-REV`), with a
/// personal token as `PRIVATE-TOKEN` and an OAuth token as `Authorization: Bearer`; `/user`,
/// `/personal_access_tokens/self` and `/oauth/token/info` describe them, and the device grant
/// (`/oauth/authorize_device`, `/oauth/token`) issues `oauth_token`. Every answer carries
/// `X-Gitlab-Meta`. Project paths compare without regard to case.
pub fn gitlab(
    repos: Vec<Repo>,
    grants: Grants,
    oauth_token: Option<String>,
) -> impl Fn(&Request) -> Answer + Send + Sync + 'static {
    move |r| {
        let credential = match (r.header("private-token"), r.header("authorization")) {
            (Some(pat), _) => Some(format!("PAT:{pat}")),
            (None, Some(auth)) => Some(auth.to_owned()),
            (None, None) => None,
        };
        let valid = credential.as_deref().is_some_and(|c| known(&grants, c));
        let answer = match (r.method.as_str(), r.path.split('?').next().unwrap_or("")) {
            ("POST", "/oauth/authorize_device") if oauth_token.is_some() => Answer::json(
                200,
                serde_json::json!({
                    "device_code": "device-code-1", "user_code": "0A44L90H",
                    "verification_uri": "https://gitlab.example/oauth/device",
                    "verification_uri_complete": "https://gitlab.example/oauth/device?user_code=0A44L90H",
                    "expires_in": 300, "interval": 1,
                }),
            ),
            ("POST", "/oauth/token") if oauth_token.is_some() => Answer::json(
                200,
                serde_json::json!({
                    "access_token": oauth_token, "token_type": "Bearer", "expires_in": 7200,
                    "refresh_token": "refresh-1", "scope": "read_api read_repository",
                    "created_at": 1_700_000_000,
                }),
            ),
            ("GET", "/api/v4/user") if valid => Answer::json(
                200,
                serde_json::json!({"username": "tanuki", "name": "Tanuki"}),
            ),
            ("GET", "/api/v4/personal_access_tokens/self") if valid => Answer::json(
                200,
                serde_json::json!({"scopes": ["read_api", "read_repository"], "expires_at": "2099-01-31",
                                   "active": true, "revoked": false}),
            ),
            ("GET", "/oauth/token/info") if valid => Answer::json(
                200,
                serde_json::json!({"scope": ["read_api", "read_repository"], "expires_in": 7200}),
            ),
            ("GET", path) if path.starts_with("/api/v4/projects/") => {
                project(r, path, &repos, &grants, credential.as_deref())
            }
            _ => Answer::json(401, serde_json::json!({"message": "401 Unauthorized"})),
        };
        answer.header("X-Gitlab-Meta", r#"{"correlation_id":"x","version":"1"}"#)
    }
}

fn project(
    r: &Request,
    path: &str,
    repos: &[Repo],
    grants: &Grants,
    credential: Option<&str>,
) -> Answer {
    let rest = path.trim_start_matches("/api/v4/projects/");
    let (id, what) = rest.split_once("/repository/").unwrap_or((rest, ""));
    let id = id.replace("%2F", "/").replace("%2f", "/");
    let (owner, name) = id.split_once('/').unwrap_or((&id, ""));
    let not_found = || Answer::json(404, serde_json::json!({"message": "404 Project Not Found"}));
    let Some(repo) = repos.iter().find(|p| p.is(owner, name, true)) else {
        return not_found();
    };
    match credential {
        Some(c) if granted(grants, c, &repo.owner) => {}
        Some(c) if !known(grants, c) => {
            return Answer::json(401, serde_json::json!({"message": "401 Unauthorized"}));
        }
        _ => return not_found(),
    }
    let query = r.path.split_once('?').map(|(_, q)| q).unwrap_or("");
    match what {
        // The project itself, as `GET /projects/O%2FR` describes it.
        "" if !rest.contains('/') => Answer::json(
            200,
            serde_json::json!({"path_with_namespace": format!("{}/{}", repo.owner, repo.name), "visibility": "private"}),
        ),
        "commits" => Answer::json(
            200,
            serde_json::json!([{"id": repo.rev, "short_id": &repo.rev[..8], "title": "first"}]),
        ),
        "archive.tar.gz" if query == format!("sha={}", repo.rev) => {
            let top = format!("{}-{}-{}", repo.name, repo.rev, repo.rev);
            Answer::bytes("application/octet-stream", repo.tarball(&top))
        }
        _ => not_found(),
    }
}

/// Files behind basic auth: `files` (path, body) for a client sending `user:password`; 401 with
/// `WWW-Authenticate: Basic` otherwise.
pub fn basic_auth(
    user: &str,
    password: &str,
    files: Vec<(String, Vec<u8>)>,
) -> impl Fn(&Request) -> Answer + Send + Sync + 'static {
    let expected = crate::support::fake_cache::basic(user, password);
    move |r| {
        if r.header("authorization") != Some(expected.as_str()) {
            return Answer::json(401, serde_json::json!({"message": "Unauthorized"}))
                .header("WWW-Authenticate", "Basic realm=\"files\"");
        }
        match files.iter().find(|(p, _)| *p == r.path) {
            Some((_, body)) => Answer::bytes("application/x-gzip", body.clone()),
            None => Answer::json(404, serde_json::json!({"message": "Not Found"})),
        }
    }
}
