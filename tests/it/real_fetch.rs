//! Nix itself downloads with what nix-tokens stored: each forge is an HTTPS server on port 443
//! of its own loopback address (the host a bare IP address, as a real forge's is a bare name)
//! behind a test CA, serving a private repository as Nix's fetchers ask for it
//! (`libfetchers/github.cc`), and it asserts the credentials it received. Each test runs against
//! each Nix found; what a version cannot do (Nix 2.8 asks `api.HOST` for every `github:` host,
//! and matches `access-tokens` by whole host only) is asserted as such.

use crate::support::git_server::{GitServer, make_repo};
use crate::support::nix::fetching::{Fetching, assert_fetched, assert_not_fetched, sent};
use crate::support::nix::forge::{self, Repo};
use crate::support::nix::https::{Answer, Request};
use crate::support::nix::tls::listen_443;
use crate::support::nix::{Nix, Which};
use crate::support::*;

crate::each_nix!(
    github_enterprise_input_with_its_token,
    gitlab_personal_and_oauth_tokens,
    tarball_behind_basic_auth_through_netrc,
    git_https_through_the_credential_helper,
    owner_keys_on_one_host,
);

const GH: &str = "ghp_realfetchgithubtoken0123456789";
const GL_PAT: &str = "glpat-realfetchpersonal0123";
const GL_OAUTH: &str = "gloas-realfetchoauthaccess0123";

fn github_enterprise_input_with_its_token(nix: &Nix) {
    let f = Fetching::new();
    let repo = f.repo("corp", "app");
    let grants = vec![(format!("token {GH}"), "corp".to_owned())];
    let Some(server) = f.serve(&[], forge::github("/api/v3", vec![repo.clone()], grants)) else {
        return;
    };
    let input = format!("github:corp/app?host={}", server.host);
    if !nix.github_enterprise_layout() {
        return github_before_2_9(nix, f, &server.host, &input);
    }

    // A private repository: without a token, GitHub answers 404.
    let out = f.fetch_tree(nix, &input);
    assert_not_fetched(&out, "404");
    assert_eq!(
        sent(&server, 0, "/api/v3/", "authorization"),
        [("/api/v3/repos/corp/app/commits/HEAD".to_owned(), None)]
    );

    f.nix_tokens(nix, &["set-token", &server.host, "-p", "github"], GH);
    let before = server.requests().len();
    assert_fetched(&f.fetch_tree(nix, &input), &repo);
    let token = Some(format!("token {GH}"));
    assert_eq!(
        sent(&server, before, "/api/v3/", "authorization"),
        [
            (
                "/api/v3/repos/corp/app/commits/HEAD".to_owned(),
                token.clone()
            ),
            (
                format!("/api/v3/repos/corp/app/tarball/{}", repo.rev),
                token
            ),
        ]
    );
}

/// Nix 2.8 asks `https://api.HOST/repos/…` whatever the host: a GitHub Enterprise Server at
/// `HOST/api/v3` is out of its reach, with a token or without. It does fetch with the token stored
/// for HOST from `api.HOST` (github.com's layout), here through a private `/etc/hosts`.
fn github_before_2_9(nix: &Nix, mut f: Fetching, host: &str, input: &str) {
    f.nix_tokens(nix, &["set-token", host, "-p", "github"], GH);
    let out = f.fetch_tree(nix, input);
    assert_not_fetched(&out, &format!("https://api.{host}/repos/corp/app"));

    if nix.which != Which::Path {
        eprintln!("skipping github.com's layout: only the Nix on PATH can be given /etc/hosts");
        return;
    }
    let repo = f.repo("corp", "tool");
    let grants = vec![(format!("token {GH}"), "corp".to_owned())];
    let Some(api) = f.serve(
        &["api.forge.test"],
        forge::github("", vec![repo.clone()], grants),
    ) else {
        return;
    };
    if !f.resolve("api.forge.test", &api.host) {
        return;
    }
    f.nix_tokens(nix, &["set-token", "forge.test", "-p", "github"], GH);
    assert_fetched(
        &f.fetch_tree(nix, "github:corp/tool?host=forge.test"),
        &repo,
    );
    let token = Some(format!("token {GH}"));
    assert_eq!(
        sent(&api, 0, "/repos/", "authorization"),
        [
            ("/repos/corp/tool/commits/HEAD".to_owned(), token.clone()),
            (format!("/repos/corp/tool/tarball/{}", repo.rev), token),
        ]
    );
}

fn gitlab_personal_and_oauth_tokens(nix: &Nix) {
    let f = Fetching::new();

    // A personal token, stored with set-token (which adds `PAT:`): Nix sends PRIVATE-TOKEN.
    let repo = f.repo("group", "pat-project");
    let grants = vec![(format!("PAT:{GL_PAT}"), "group".to_owned())];
    let Some(pat) = f.serve(&[], forge::gitlab(vec![repo.clone()], grants, None)) else {
        return;
    };
    let input = format!("gitlab:group/pat-project?host={}", pat.host);
    assert_not_fetched(&f.fetch_tree(nix, &input), "404");
    f.nix_tokens(nix, &["set-token", &pat.host, "-p", "gitlab"], GL_PAT);
    let before = pat.requests().len();
    assert_fetched(&f.fetch_tree(nix, &input), &repo);
    let project = "/api/v4/projects/group%2Fpat-project/repository";
    assert_eq!(
        sent(&pat, before, "/", "private-token"),
        [
            (
                format!("{project}/commits?ref_name=HEAD"),
                Some(GL_PAT.into())
            ),
            (
                format!("{project}/archive.tar.gz?sha={}", repo.rev),
                Some(GL_PAT.into())
            ),
        ]
    );
    assert!(
        pat.requests()[before..]
            .iter()
            .all(|r| r.header("authorization").is_none())
    );

    // An OAuth token from the device grant (stored with `OAuth2:`): `Authorization: Bearer`.
    let repo = f.repo("team", "oauth-project");
    let grants = vec![(format!("Bearer {GL_OAUTH}"), "team".to_owned())];
    let handler = forge::gitlab(vec![repo.clone()], grants, Some(GL_OAUTH.into()));
    let Some(oauth) = f.serve(&[], handler) else {
        return;
    };
    let url = oauth.url();
    let args = [
        "login",
        &oauth.host,
        "-p",
        "gitlab",
        "--client-id",
        "app",
        "--base-url",
        &url,
    ];
    let out = f.nix_tokens(nix, &args, "");
    assert!(stderr(&out).contains("as tanuki"), "{}", stderr(&out));
    assert_no_leak(&out, &[GL_OAUTH]);
    let before = oauth.requests().len();
    let input = format!("gitlab:team/oauth-project?host={}", oauth.host);
    assert_fetched(&f.fetch_tree(nix, &input), &repo);
    let bearer = Some(format!("Bearer {GL_OAUTH}"));
    let got: Vec<_> = sent(&oauth, before, "/", "authorization");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(_, h)| *h == bearer), "{got:?}");
    assert!(
        oauth.requests()[before..]
            .iter()
            .all(|r| r.header("private-token").is_none())
    );
}

fn tarball_behind_basic_auth_through_netrc(nix: &Nix) {
    let f = Fetching::new();
    let repo = f.repo("releases", "tool");
    let token = "filestokenabcdef0123456789";
    let files = vec![(
        "/releases/tool-1.0.tar.gz".to_owned(),
        repo.tarball("tool-1.0"),
    )];
    let Some(server) = f.serve(&[], forge::basic_auth("me", token, files)) else {
        return;
    };
    let expr = format!(
        r#"builtins.readFile ((builtins.fetchTarball "{}/releases/tool-1.0.tar.gz") + "/README")"#,
        server.url()
    );
    assert_not_fetched(&f.eval(nix, &expr), "401");

    f.nix_tokens(
        nix,
        &["set-token", &server.host, "--netrc", "--login", "me"],
        token,
    );
    let before = server.requests().len();
    assert_fetched(&f.eval(nix, &expr), &repo);
    let basic = crate::support::fake_cache::basic("me", token);
    assert_eq!(
        sent(&server, before, "/", "authorization"),
        [("/releases/tool-1.0.tar.gz".to_owned(), Some(basic))]
    );
}

fn git_https_through_the_credential_helper(nix: &Nix) {
    let f = Fetching::new();
    make_repo(&f.repos, "org/private.git", "org/private: private\n");
    let Some(bound) = listen_443() else {
        return;
    };
    let tls = f.ca.server_config(&[&bound.1.to_string()]);
    let server = GitServer::start_https(bound, tls, &f.repos, &[("x-access-token", GH)]);
    // Nix 2.8 fetches `master` unless told; the repository's branch is `main`.
    let input = format!("git+https://{}/org/private.git?ref=main", server.host);
    f.nix_tokens(nix, &["set-token", &server.host, "-p", "github"], GH);

    // Nix's git reads no access-tokens: without the helper it has no credentials.
    let out = f.fetch_tree(nix, &input);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(server.tried().is_empty(), "{:?}", server.tried());

    // Nix runs git (inside the recent Nix's chroot, that chroot's git), git runs nix-tokens.
    f.nix_tokens(nix, &["git-credential", "--install"], "");
    let out = f.fetch_tree(nix, &input);
    assert!(
        out.status.success(),
        "Nix could not fetch:\n{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "org/private: private\n");
    let mut tried = server.tried();
    tried.dedup();
    assert_eq!(tried, [("x-access-token".to_owned(), GH.to_owned())]);
}

/// Two owners on one host, each with a token, and a token for the host: Nix 2.27 and later send
/// each owner's own token (comparing the owner exactly as written, case included); older Nix
/// sends the host's token for both. On a GitHub Enterprise Server (Nix 2.9 and later) and on a
/// GitLab (every version).
fn owner_keys_on_one_host(nix: &Nix) {
    if nix.github_enterprise_layout() {
        owners(nix, &GITHUB);
    }
    owners(nix, &GITLAB);
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// How a forge kind is set up and what Nix sends it.
struct Kind {
    scheme: &'static str,
    api: &'static str,
    header: &'static str,
    handler: fn(Vec<Repo>, forge::Grants) -> Box<Handler>,
    /// The credential as the forge's grants name it, and the header's value Nix sends.
    credential: fn(&str) -> String,
    sent: fn(&str) -> String,
}

const GITHUB: Kind = Kind {
    scheme: "github",
    api: "/api/v3/repos/",
    header: "authorization",
    handler: |repos, grants| Box::new(forge::github("/api/v3", repos, grants)),
    credential: |t| format!("token {t}"),
    sent: |t| format!("token {t}"),
};

const GITLAB: Kind = Kind {
    scheme: "gitlab",
    api: "/api/v4/projects/",
    header: "private-token",
    handler: |repos, grants| Box::new(forge::gitlab(repos, grants, None)),
    credential: |t| format!("PAT:{t}"),
    sent: |t| t.to_owned(),
};

fn owners(nix: &Nix, kind: &Kind) {
    let f = Fetching::new();
    let (alice, bob) = (f.repo("alice", "app"), f.repo("bob", "lib"));
    let (host_token, alice_token, bob_token) = (
        "hosttoken0123456789",
        "alicetoken012345678",
        "bobtoken01234567890",
    );
    let owned = [("", host_token), ("alice", alice_token), ("bob", bob_token)];
    let grants = owned
        .iter()
        .map(|(o, t)| ((kind.credential)(t), (*o).to_owned()))
        .collect();
    let Some(server) = f.serve(
        &[],
        (kind.handler)(vec![alice.clone(), bob.clone()], grants),
    ) else {
        return;
    };
    for (owner, token) in owned {
        let key = match owner {
            "" => server.host.clone(),
            _ => format!("{}/{owner}", server.host),
        };
        let out = f.nix_tokens(nix, &["set-token", &key, "-p", kind.scheme], token);
        let said = match nix.matches_owner_keys() {
            false => "matches access-tokens by whole host only",
            true => "exactly, case included",
        };
        assert!(
            owner.is_empty() || stderr(&out).contains(said),
            "{}",
            stderr(&out)
        );
    }
    // What Nix sent in its first API request for `OWNER/REPO`.
    let fetch = |owner: &str, repo: &Repo| {
        let before = server.requests().len();
        let input = format!("{}:{owner}/{}?host={}", kind.scheme, repo.name, server.host);
        let out = f.fetch_tree(nix, &input);
        let first = sent(&server, before, kind.api, kind.header)
            .into_iter()
            .next();
        (out, first.and_then(|(_, value)| value))
    };
    for (repo, token) in [(&alice, alice_token), (&bob, bob_token)] {
        let (out, got) = fetch(&repo.owner, repo);
        if nix.matches_owner_keys() {
            assert_fetched(&out, repo);
            assert_eq!(got, Some((kind.sent)(token)));
        } else {
            assert_not_fetched(&out, "404");
            assert_eq!(got, Some((kind.sent)(host_token)));
        }
    }
    // The forge reads `ALICE` as `alice`; Nix compares the key `HOST/alice` exactly, so it sends
    // the host's token, which does not read alice's repositories.
    let (out, got) = fetch("ALICE", &alice);
    assert_not_fetched(&out, "404");
    assert_eq!(got, Some((kind.sent)(host_token)));
}
