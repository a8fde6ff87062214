//! `refresh --ci` and `refresh --ci --watch`: the credentials `login --ci` obtained renewed by
//! making the same exchanges again, each an atomic replace, against the stand-ins of
//! tests/support/fake_ci.rs (an ID token there can be made to live a few seconds).

use crate::ci::{github_job, run};
use crate::support::fake_ci::FakeCi;
use std::time::Duration;

use crate::support::{
    TestEnv, assert_clean_failure, assert_success, read, stderr, stdout, wait_bounded, wait_until,
};

/// The password the netrc holds for `host`, if any.
fn netrc_password(netrc: &str, host: &str) -> Option<String> {
    netrc.lines().find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        (words.first() == Some(&"machine") && words.get(1) == Some(&host))
            .then(|| words.get(5).map(|w| (*w).to_owned()))
            .flatten()
    })
}

/// What the FlakeHub-like cache answers to `flakehub:<password>`.
fn cache_status(ci: &FakeCi, password: &str) -> u16 {
    use std::io::{Read, Write};
    let url = reqwest::Url::parse(ci.url()).unwrap();
    let mut tcp =
        std::net::TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).unwrap();
    let auth = crate::support::fake_cache::basic("flakehub", password);
    write!(
        tcp,
        "GET /cache/nix-cache-info HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    answer.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn refresh_ci_replaces_each_credential_and_a_reader_never_finds_none() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let cache = format!("{}/cache", ci.url());
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "flakehub", "--ci", "--base-url", &cache],
    ));
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    ));
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let reader = {
        let (netrc, stop) = (env.netrc(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let text = std::fs::read_to_string(&netrc).expect("the netrc is always there");
                for host in ["cache.flakehub.com", "prefix.dev"] {
                    assert!(
                        netrc_password(&text, host).is_some(),
                        "no credential for {host}:\n{text}"
                    );
                }
                reads += 1;
            }
            reads
        })
    };
    for _ in 0..100 {
        assert_success(&run(github_job(&env, &ci), &["refresh", "--ci"]));
    }
    stop.store(true, Ordering::SeqCst);
    let reads = reader
        .join()
        .expect("the reader found every credential every time");
    assert!(reads > 100, "{reads}");
    let ids = ci.state().id_tokens.clone();
    let minted = ci.state().minted.clone();
    // Each refresh asked for a new ID token for each (FlakeHub's, and the one prefix.dev mints from).
    assert_eq!(ids.len(), 2 * 101);
    assert_eq!(minted.len(), 101);
    let netrc = read(&env.netrc());
    assert_eq!(
        netrc_password(&netrc, "prefix.dev").as_deref(),
        minted.last().map(String::as_str)
    );
    let pixi: serde_json::Value =
        serde_json::from_str(&read(&env.root.join("rattler.json"))).unwrap();
    assert_eq!(
        pixi["*.prefix.dev"]["BearerToken"],
        minted.last().unwrap().as_str()
    );
}

#[test]
fn refresh_ci_without_a_ci_login_says_so() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let before = env.snapshot();
    let out = run(github_job(&env, &ci), &["refresh", "--ci"]);
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("login TARGET --ci"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn the_watcher_renews_before_expiry_until_it_is_stopped() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    ci.set_lifetime(3);
    let cache = format!("{}/cache", ci.url());
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "flakehub", "--ci", "--base-url", &cache],
    ));
    let first = netrc_password(&read(&env.netrc()), "cache.flakehub.com").unwrap();
    assert_eq!(cache_status(&ci, &first), 200);
    let template = github_job(&env, &ci);
    let mut cmd = std::process::Command::new(template.get_program());
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let watcher = cmd
        .current_dir(&env.root)
        .args(["refresh", "--ci", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The watcher renews on the tests' time scale; the stand-in lets the first ID token expire
    // on its own clock (at most 3 s after it was issued). Then the cache refuses the first, and
    // takes what the netrc holds now.
    let renewed = || netrc_password(&read(&env.netrc()), "cache.flakehub.com").unwrap() != first;
    assert!(wait_until(Duration::from_secs(10), renewed), "no renewal");
    assert!(
        wait_until(Duration::from_secs(10), || cache_status(&ci, &first) == 401),
        "the stand-in honours exp"
    );
    let now = netrc_password(&read(&env.netrc()), "cache.flakehub.com").unwrap();
    assert_eq!(cache_status(&ci, &first), 401, "the stand-in honours exp");
    assert_ne!(now, first);
    assert_eq!(cache_status(&ci, &now), 200);
    crate::support::terminate(watcher.id());
    let out = wait_bounded(watcher, Duration::from_secs(5), "the watcher");
    assert!(!out.status.success() || out.status.code() == Some(0));
    // No ID token the watcher obtained is printed, not even in a mask: after the step that
    // started it, nothing reads masks from its output.
    let text = stdout(&out);
    for id in ci.state().id_tokens.iter().skip(1) {
        assert!(!text.contains(id.as_str()), "{text}");
        assert!(!stderr(&out).contains(id.as_str()));
    }
}

/// `refresh --ci --watch` in the job, its output kept, its pauses after a renewal that yields an
/// expired credential (2 s doubling to 60 s) scaled down a thousandfold.
fn spawn_watcher(env: &TestEnv, ci: &FakeCi) -> std::process::Child {
    let template = github_job(env, ci);
    let mut cmd = std::process::Command::new(template.get_program());
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.current_dir(&env.root)
        .env("NIX_TOKENS_TEST_TIME_SCALE", "0.001")
        .args(["refresh", "--ci", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A reader of the netrc and of pixi's store finds a credential for every host at every moment
/// while the watcher renews them at least 100 times. Timings: the watcher counts in whole seconds
/// and renews once less than a third of a credential's life is left, so a credential living 1 s
/// (a third of which rounds to 0) is renewed at most once a second and 100 renewals would take
/// 100 s. The prefix.dev stand-in therefore mints tokens living 0 s (their `exp` is the second
/// they were minted in): each is due at once, and the watcher renews prefix.dev after a pause
/// that doubles up to a minute, scaled down here to 60 ms (an ID token, the mint, the netrc,
/// pixi's store and the record, each an atomic replace) — about 15 s for 100 renewals on a loaded
/// 2-core machine; the test allows 60 s. FlakeHub's ID tokens live 300 s meanwhile, renewed by the
/// same watcher every 200 s scaled down alike (0.2 s).
#[test]
fn a_reader_finds_every_credential_during_100_renewals_by_the_watcher() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    ci.set_lifetime(3000);
    ci.set_minted_lifetime(0);
    let cache = format!("{}/cache", ci.url());
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "flakehub", "--ci", "--base-url", &cache],
    ));
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    ));
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let reader = {
        let (netrc, pixi, stop) = (env.netrc(), env.root.join("rattler.json"), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let text = std::fs::read_to_string(&netrc).expect("the netrc is always there");
                for host in ["cache.flakehub.com", "prefix.dev"] {
                    assert!(
                        netrc_password(&text, host).is_some(),
                        "no credential for {host}:\n{text}"
                    );
                }
                let store = std::fs::read_to_string(&pixi).expect("pixi's store is always there");
                let store: serde_json::Value = serde_json::from_str(&store).expect("whole JSON");
                assert!(store["*.prefix.dev"]["BearerToken"].is_string(), "{store}");
                reads += 1;
            }
            reads
        })
    };
    let watcher = spawn_watcher(&env, &ci);
    let start = Instant::now();
    // Until prefix.dev was renewed 100 times and the netrc holds a renewed FlakeHub ID token (due
    // 2 s after the login's): on a fast machine the 100 renewals take less than those 2 s.
    let first = ci.state().id_tokens[0].clone();
    let done = || {
        let netrc = std::fs::read_to_string(env.netrc()).unwrap_or_default();
        ci.state().minted.len() >= 101
            && netrc_password(&netrc, "cache.flakehub.com").is_some_and(|held| held != first)
    };
    while !done() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let renewed = ci.state().minted.len() - 1;
    let flakehub = ci.state().id_tokens.len();
    stop.store(true, Ordering::SeqCst);
    crate::support::terminate(watcher.id());
    let out = wait_bounded(watcher, Duration::from_secs(5), "the watcher");
    let reads = reader
        .join()
        .expect("the reader found every credential every time");
    assert!(
        renewed >= 100,
        "the watcher renewed prefix.dev {renewed} times in 60 s:\n{}",
        stderr(&out)
    );
    assert!(reads > 100, "{reads}");
    assert!(
        !stderr(&out).contains("could not renew"),
        "{}",
        stderr(&out)
    );
    // FlakeHub's ID token was renewed too, and the netrc holds one the stand-in issued.
    assert!(flakehub > renewed + 2, "{flakehub}");
    let netrc = read(&env.netrc());
    let ids = ci.state().id_tokens.clone();
    let held = netrc_password(&netrc, "cache.flakehub.com").unwrap();
    assert!(ids.contains(&held) && held != ids[0], "{netrc}");
    let minted = ci.state().minted.clone();
    let held = netrc_password(&netrc, "prefix.dev").unwrap();
    assert!(minted[renewed - 1..].contains(&held), "{netrc}");
}
