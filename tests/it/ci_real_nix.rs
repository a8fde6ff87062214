//! Real Nix reads a FlakeHub-like cache with what `login flakehub --ci` wrote after the job's first
//! ID token has expired and the watcher (`refresh --ci --watch`) renewed it. The cache is an HTTPS
//! server on port 443 of its own loopback address (tests/support/nix/fetching.rs) that accepts
//! `flakehub:<JWT>` only for an ID token the stand-in of tests/support/fake_ci.rs issued, of
//! audience `api.flakehub.com`, until its `exp`. A provider file of the user's puts FlakeHub's
//! hosts at that address, so that each Nix (the recent one too, in its chroot with its own
//! `/etc/hosts`) reaches it by the name the netrc holds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ci::github_job;
use crate::support::fake_cache::{CACHE_INFO, basic};
use crate::support::fake_ci::{CiState, FakeCi, claims};
use crate::support::nix::Nix;
use crate::support::nix::fetching::Fetching;
use crate::support::nix::https::{Answer, Request};
use crate::support::*;

crate::each_nix!(nix_reads_the_cache_with_the_watchers_renewed_token);

/// Whether the cache takes this `Authorization` header: a FlakeHub ID token the stand-in issued,
/// not yet expired.
fn accepted(state: &Mutex<CiState>, authorization: Option<&str>) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    state.lock().unwrap().id_tokens.iter().any(|t| {
        authorization == Some(basic("flakehub", t).as_str())
            && claims(t).is_some_and(|c| {
                c["aud"] == "api.flakehub.com" && c["exp"].as_u64().unwrap_or(0) > now
            })
    })
}

/// The FlakeHub provider with its hosts and cache at `ip`, as a user's provider file.
fn flakehub_at(ip: &str) -> String {
    format!(
        "name = \"flakehub\"\nkind = \"nix-cache\"\ndefault_host = \"{ip}\"\nsink = \"netrc\"\n\
         netrc_login = \"flakehub\"\n\n[cache]\nsubstituter = \"https://{ip}\"\nhosts = [\"{ip}\"]\n\n\
         [ci]\nidentity = \"id-token\"\naudience = \"api.flakehub.com\"\n"
    )
}

/// The password the netrc holds for `host`.
fn netrc_password(netrc: &str, host: &str) -> Option<String> {
    netrc.lines().find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        (words.get(1) == Some(&host)).then(|| words.get(5).map(|w| (*w).to_string()))?
    })
}

/// `nix-tokens ARGS` in the GitHub job, with this Nix first on `PATH` and trusting the test CA.
fn job(f: &Fetching, ci: &FakeCi, nix: &Nix, args: &[&str]) -> std::process::Command {
    let bin = f.env.root.join("nix-bin");
    if !bin.exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(&nix.program, bin.join("nix")).unwrap();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path))).unwrap();
    let template = github_job(&f.env, ci);
    let mut cmd = std::process::Command::new(template.get_program());
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.current_dir(&f.env.root)
        .env("PATH", path)
        .env("SSL_CERT_FILE", &f.ca_file)
        .args(args);
    cmd
}

/// Nix opens the store at `url`, which reads its `nix-cache-info`.
fn open_store(f: &Fetching, nix: &Nix, url: &str) -> std::process::Output {
    let verb = if nix.at_least(2, 19) { "info" } else { "ping" };
    f.nix(nix, &["store", verb, "--store", url])
}

fn nix_reads_the_cache_with_the_watchers_renewed_token(nix: &Nix) {
    let (f, ci) = (Fetching::new(), FakeCi::start());
    // The job's ID tokens live 3 s: the watcher renews each 2 s after it was issued, scaled down
    // by the tests' time scale.
    ci.set_lifetime(3);
    let state: Arc<Mutex<CiState>> = ci.state.clone();
    let Some(cache) = f.serve(&[], move |r: &Request| {
        match accepted(&state, r.header("authorization")) {
            true if r.path == "/nix-cache-info" => {
                Answer::bytes("text/x-nix-cache-info", CACHE_INFO.as_bytes().to_vec())
            }
            true => Answer::json(404, serde_json::json!({})),
            false => Answer::json(401, serde_json::json!({}))
                .header("WWW-Authenticate", "Basic realm=\"cache\""),
        }
    }) else {
        return;
    };
    let providers = f.env.home.join(".config/nix-tokens/providers");
    f.env
        .write(&providers.join("flakehub.toml"), &flakehub_at(&cache.host));
    let out = job(&f, &ci, nix, &["login", "flakehub", "--ci"])
        .output()
        .unwrap();
    assert_success(&out);
    let first = netrc_password(&read(&f.env.netrc()), &cache.host).expect("a netrc entry");
    let watcher = job(&f, &ci, nix, &["refresh", "--ci", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The watcher renews on the tests' time scale; the stand-in lets the first ID token expire on
    // its own clock (at most 3 s after it was issued).
    let renewed = || netrc_password(&read(&f.env.netrc()), &cache.host).is_some_and(|p| p != first);
    assert!(wait_until(Duration::from_secs(10), renewed), "no renewal");
    assert!(
        wait_until(Duration::from_secs(10), || !accepted(
            &ci.state,
            Some(&basic("flakehub", &first))
        )),
        "the first ID token never expired"
    );
    let url = format!("https://{}", cache.host);
    let before = cache.requests().len();
    let out = open_store(&f, nix, &url);
    crate::support::terminate(watcher.id());
    let watched = wait_bounded(watcher, Duration::from_secs(5), "the watcher");
    assert!(
        out.status.success(),
        "{nix} could not open {url} after the first ID token expired:\n{}\nthe watcher said:\n{}",
        stderr(&out),
        stderr(&watched)
    );
    assert!(
        !accepted(&ci.state, Some(&basic("flakehub", &first))),
        "the cache honours exp"
    );
    let sent: Vec<String> = cache.requests()[before..]
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    let now = netrc_password(&read(&f.env.netrc()), &cache.host).unwrap();
    assert_ne!(now, first, "the watcher renewed the ID token");
    assert!(sent.contains(&basic("flakehub", &now)), "{sent:?}");
}
