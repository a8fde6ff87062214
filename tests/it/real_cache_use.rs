//! Nix substitutes a real store path from a private cache that only `nix-tokens login` set up:
//! a path added to a scratch store is copied with `nix copy --to file://…?secret-key=…` (signed
//! with a key from `nix-store --generate-binary-cache-key`), served over HTTPS behind basic auth
//! with a stand-in for Cachix's API beside it; `login cachix --cache team` writes the credential,
//! the substituter and the key, and Nix (each one found, single-user with a store of its own)
//! fetches the path. The narinfo is served without its `CA:` line, so that Nix takes the path only
//! on the strength of the signature and the key nix-tokens wrote.

use std::path::{Path, PathBuf};

use crate::support::fake_cache::basic;
use crate::support::nix::Nix;
use crate::support::nix::fetching::Fetching;
use crate::support::nix::https::{Answer, Request};
use crate::support::*;

crate::each_nix!(a_cache_set_up_only_by_login_substitutes_a_real_path);

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.substitutetoken0123";
const KEY_NAME: &str = "team.cachix.org-1";

/// A signed binary cache of one small path: its directory, the path, and the public key.
fn signed_cache(f: &Fetching, nix: &Nix) -> (PathBuf, String, String) {
    let root = &f.env.root;
    let file = root.join("hello.txt");
    std::fs::write(&file, "substituted by nix-tokens' login\n").unwrap();
    let (secret, public) = (root.join("cache.sec"), root.join("cache.pub"));
    let generate = nix
        .command_of(&nix.sibling("nix-store"), &f.env)
        .arg("--generate-binary-cache-key")
        .args([Path::new(KEY_NAME), &secret, &public])
        .output()
        .unwrap();
    assert!(generate.status.success(), "{}", stderr(&generate));
    let scratch = format!("local?root={}", root.join("scratch").display());
    let added = f.nix(
        nix,
        &[
            "--store",
            &scratch,
            "store",
            "add-file",
            &file.to_string_lossy(),
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let path = stdout(&added).trim().to_owned();
    let dir = root.join("binary-cache");
    let to = format!("file://{}?secret-key={}", dir.display(), secret.display());
    let copied = f.nix(nix, &["--store", &scratch, "copy", "--to", &to, &path]);
    assert!(copied.status.success(), "{}", stderr(&copied));
    (dir, path, read(&public).trim().to_owned())
}

/// The cache at `dir` to `:TOKEN` only, and Cachix's API for the cache `team` to the bearer
/// `TOKEN`, saying it lives at `https://HOST` with `key`.
fn answer(dir: &Path, host: &str, key: &str, r: &Request) -> Answer {
    if r.path == "/api/v1/cache/team" {
        if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
            return Answer::json(401, serde_json::json!({"error": "Unauthorized"}));
        }
        return Answer::json(
            200,
            serde_json::json!({"name": "team", "uri": format!("https://{host}"),
                "isPublic": false, "publicSigningKeys": [key], "githubUsername": "",
                "permission": "Read"}),
        );
    }
    if r.header("authorization") != Some(basic("", TOKEN).as_str()) {
        return Answer::json(401, serde_json::json!({}))
            .header("WWW-Authenticate", "Basic realm=\"cache\"");
    }
    let name = r.path.trim_start_matches('/');
    let Ok(bytes) = std::fs::read(dir.join(name)).map_err(|_| ()).and_then(|b| {
        (!name.contains("..") && !name.is_empty())
            .then_some(b)
            .ok_or(())
    }) else {
        return Answer::json(404, serde_json::json!({}));
    };
    if name.ends_with(".narinfo") {
        let text = String::from_utf8(bytes).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.starts_with("CA:"))
            .map(|l| format!("{l}\n"))
            .collect();
        return Answer::bytes("text/x-nix-narinfo", kept.into_bytes());
    }
    Answer::bytes("application/octet-stream", bytes)
}

fn a_cache_set_up_only_by_login_substitutes_a_real_path(nix: &Nix) {
    let f = Fetching::new();
    let (dir, path, key) = signed_cache(&f, nix);
    let (served, pubkey) = (dir.clone(), key.clone());
    let host = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = host.clone();
    let Some(cache) = f.serve(&[], move |r: &Request| {
        answer(&served, &seen.lock().unwrap(), &pubkey, r)
    }) else {
        return;
    };
    *host.lock().unwrap() = cache.host.clone();
    // Cachix as a provider file describes it, its hosts standing in at the server's address.
    let provider = format!(
        "name = \"cachix\"\nkind = \"nix-cache\"\nsink = \"netrc\"\nnetrc_login = \"\"\n\n[cache]\n\
         host = \"{h}\"\nsubstituter = \"https://{h}\"\n\
         api = {{ kind = \"cachix\", url = \"https://{h}/api/v1/cache/{{cache}}\" }}\n",
        h = cache.host
    );
    f.env.write(
        &f.env.home.join(".config/nix-tokens/providers/cachix.toml"),
        &provider,
    );
    let build = |f: &Fetching| f.nix(nix, &["build", "--no-link", &path]);
    let out = build(&f);
    assert!(
        !out.status.success(),
        "{nix} had {path} before the cache was set up"
    );

    let out = f.nix_tokens(
        nix,
        &[
            "login",
            "cachix",
            "-p",
            "cachix",
            "--cache",
            "team",
            "--with-token",
        ],
        TOKEN,
    );
    assert!(stderr(&out).contains("Nix now uses"), "{}", stderr(&out));
    let before = cache.requests().len();
    let out = build(&f);
    assert!(
        out.status.success(),
        "{nix} did not substitute {path}:\n{}",
        stderr(&out)
    );
    let landed = f
        .env
        .root
        .join("nix-root")
        .join(path.trim_start_matches('/'));
    assert_eq!(read(&landed), "substituted by nix-tokens' login\n");
    let fetched: Vec<String> = cache.requests()[before..]
        .iter()
        .filter(|r| r.header("authorization") == Some(basic("", TOKEN).as_str()))
        .map(|r| r.path.clone())
        .collect();
    assert!(
        fetched.iter().any(|p| p.ends_with(".narinfo"))
            && fetched.iter().any(|p| p.starts_with("/nar/")),
        "{fetched:?}"
    );
}
