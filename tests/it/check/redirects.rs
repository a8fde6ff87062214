//! A download whose server redirects it to another host or port: followed as Nix's curl follows
//! it, with the netrc entry sent only to its own host and port, and judged where it ends: an
//! archive is readable, an HTML page (a login page) where Nix expects an archive fails, and a
//! 404 fails.

use serde_json::json;

use super::{FILES, assert_row, check, flake, port_of};
use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

#[test]
fn a_download_is_judged_where_its_redirects_end() {
    let env = TestEnv::new();
    let gzip = || Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "application/x-gzip".into())],
        body: "tarball!!".into(),
    };
    // Other origins: a login page answering 200 with HTML, a store of archives, and nothing.
    let login_page = FakeServer::start(|_| Reply::html(200, "<html><form>Sign in</form></html>"));
    let store = FakeServer::start(move |_| gzip());
    let gone = FakeServer::start(|_| Reply::json(404, json!({"message": "Not Found"})));
    let to: Vec<(String, String)> = [("login", &login_page), ("stored", &store), ("gone", &gone)]
        .iter()
        .map(|(name, s)| {
            let at = format!("http://localhost:{}/{name}.tar.gz", port_of(s));
            (format!("/{name}.tar.gz"), at)
        })
        .collect();
    let files = FakeServer::start(move |r| match to.iter().find(|(p, _)| *p == r.path) {
        Some((_, at)) => Reply::html(302, "").header("Location", at),
        None => Reply::json(404, json!({"message": "Not Found"})),
    });
    let out = env.run(
        &["set-token", "127.0.0.1", "--netrc", "--login", "me"],
        FILES,
    );
    assert_success(&out);
    let at = |name: &str| format!("{}/{name}.tar.gz", files.url);
    let dir = flake(
        &env,
        &lock(
            json!({"login": "login", "stored": "stored", "gone": "gone"}),
            json!({"login": fl::download("tarball", &at("login")),
                   "stored": fl::download("tarball", &at("stored")),
                   "gone": fl::download("tarball", &at("gone"))}),
        ),
    );
    let (code, rows, err) = check(&env, &[&dir]);
    assert_eq!(code, Some(3), "{rows:#?}\n{err}");
    let fix = Some("nix-tokens set-token 127.0.0.1 --netrc");
    assert_row(&rows, "login", "fails", "an HTML page", fix);
    assert_row(&rows, "login", "fails", "which Nix cannot unpack", fix);
    assert_row(&rows, "stored", "ok", "redirects to localhost:", None);
    assert_row(&rows, "gone", "fails", "redirects to localhost:", fix);
    // The netrc entry went to its own host only, as curl sends it for Nix.
    assert!(
        files
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_some())
    );
    for other in [&login_page, &store, &gone] {
        let asked = other.requests();
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert!(asked[0].header("authorization").is_none(), "{asked:?}");
    }
}
