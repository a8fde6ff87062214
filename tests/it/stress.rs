//! A hundred runs at once end as some one-after-the-other order of them would: 60 `set-token`s of
//! distinct hosts (some to netrc), 20 of one shared host with different tokens, and 20 `logout`s
//! of hosts stored beforehand, racing also to move a token added to nix.conf by hand.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const SHARED: &str = "shared.example.org";

/// A distinct host, and whether its token goes to netrc.
fn new_host(i: usize) -> (String, bool) {
    (format!("new{i:02}.example.org"), i.is_multiple_of(6))
}

/// A host stored before the race and logged out during it.
fn gone_host(i: usize) -> (String, bool) {
    (format!("gone{i:02}.example.org"), i.is_multiple_of(4))
}

fn set_args(host: &str, netrc: bool) -> Vec<String> {
    let mut args = vec![
        "set-token".to_owned(),
        host.to_owned(),
        "--force".to_owned(),
    ];
    if netrc {
        args.push("--netrc".to_owned());
    }
    args
}

/// `key=value` pairs of every `access-tokens`/`extra-access-tokens` line, in order.
fn token_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            l.strip_prefix("extra-access-tokens = ")
                .or_else(|| l.strip_prefix("access-tokens = "))
        })
        .flat_map(str::split_whitespace)
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("key=token");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// `(machine, password)` of every netrc entry (nix-tokens writes one entry a line).
fn netrc_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.first() == Some(&"machine"))
        .map(|w| {
            let password = w.iter().position(|x| *x == "password").unwrap();
            (w[1].to_owned(), w[password + 1].to_owned())
        })
        .collect()
}

#[test]
fn a_hundred_runs_at_once_end_as_some_sequential_order() {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "# mine\nmax-jobs = 2\naccess-tokens = seed.org=seedtokenseedtoken\n",
    );

    // First, one after the other: the hosts the race logs out of.
    for i in 0..20 {
        let (host, netrc) = gone_host(i);
        let args = set_args(&host, netrc);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_success(&env.run(&args, &format!("gonetoken{i:02}abcdefghij\n")));
    }
    let nix_conf = read(&env.nix_conf());
    assert_eq!(
        nix_conf,
        "# mine\nmax-jobs = 2\n!include access-tokens.conf\n"
    );
    // A token added by hand, which the first run of the race moves to the token file.
    env.write(
        &env.nix_conf(),
        &format!("{nix_conf}extra-access-tokens = hand.org=handtokenhandtoken\n"),
    );

    // Then all at once, the three kinds interleaved.
    let mut jobs: Vec<(Vec<String>, String)> = Vec::new();
    for r in 0..20 {
        for i in 3 * r..3 * r + 3 {
            let (host, netrc) = new_host(i);
            jobs.push((
                set_args(&host, netrc),
                format!("newtoken{i:02}abcdefghij\n"),
            ));
        }
        jobs.push((
            set_args(SHARED, false),
            format!("sharedtoken{r:02}abcdefg\n"),
        ));
        let (host, _) = gone_host(r);
        jobs.push((vec!["logout".into(), host, "--yes".into()], String::new()));
    }
    assert_eq!(jobs.len(), 100);
    let start = Instant::now();
    let mut children: Vec<Child> = jobs
        .iter()
        .map(|(args, _)| {
            env.std_cmd()
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn nix-tokens")
        })
        .collect();
    for (child, (_, input)) in children.iter_mut().zip(&jobs) {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
    }
    for (child, (args, _)) in children.into_iter().zip(&jobs) {
        let limit = Duration::from_secs(60).saturating_sub(start.elapsed());
        let out = wait_bounded(child, limit, &args.join(" "));
        assert_success(&out);
    }
    eprintln!("100 runs at once took {:?}", start.elapsed());

    // Every distinct host with its own token, the logged-out ones gone, the shared one with
    // exactly one of the tokens offered, and nothing else.
    let tokens = read(&env.token_file());
    let netrc = read(&env.netrc());
    let mut want_tokens = BTreeMap::from([
        ("seed.org".to_owned(), "seedtokenseedtoken".to_owned()),
        ("hand.org".to_owned(), "handtokenhandtoken".to_owned()),
    ]);
    let mut want_netrc = BTreeMap::new();
    for i in 0..60 {
        let (host, to_netrc) = new_host(i);
        let token = format!("newtoken{i:02}abcdefghij");
        if to_netrc {
            want_netrc.insert(host, token);
        } else {
            want_tokens.insert(host, token);
        }
    }
    let pairs = token_pairs(&tokens);
    let shared: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == SHARED)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(shared.len(), 1, "{SHARED} appears {} times", shared.len());
    let offered: Vec<String> = (0..20)
        .map(|r| format!("sharedtoken{r:02}abcdefg"))
        .collect();
    assert!(offered.contains(shared[0]), "{SHARED} holds {}", shared[0]);
    want_tokens.insert(SHARED.to_owned(), shared[0].clone());
    let got: BTreeMap<String, String> = pairs.iter().cloned().collect();
    assert_eq!(got.len(), pairs.len(), "a key appears twice:\n{tokens}");
    assert_eq!(got, want_tokens, "token file:\n{tokens}");
    let got_netrc: Vec<(String, String)> = netrc_pairs(&netrc);
    assert_eq!(
        got_netrc.iter().cloned().collect::<BTreeMap<_, _>>(),
        want_netrc,
        "netrc:\n{netrc}"
    );
    assert_eq!(got_netrc.len(), want_netrc.len(), "netrc:\n{netrc}");
    assert_eq!(
        tokens.matches("netrc-file = ").count(),
        1,
        "token file:\n{tokens}"
    );
    assert_eq!(mode(&env.token_file()), 0o600);
    assert_eq!(mode(&env.netrc()), 0o600);

    // nix.conf as before the race, the hand-added token moved out, one include.
    let conf = read(&env.nix_conf());
    assert_eq!(conf, nix_conf);
    assert_eq!(conf.matches("!include access-tokens.conf").count(), 1);

    let leftovers: Vec<String> = fs::read_dir(env.config_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // And Nix reads it so.
    if let Some(config) = nix_config(&env) {
        let want: BTreeMap<String, String> = want_tokens.into_iter().collect();
        assert_eq!(nix_access_tokens(&config), want);
        assert_eq!(
            config["netrc-file"]["value"],
            env.netrc().display().to_string()
        );
    }
}
