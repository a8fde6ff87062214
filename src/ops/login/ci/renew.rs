//! `refresh --ci`: every `login --ci` of this job made again, which replaces each credential
//! atomically (a Nix reading the netrc meanwhile finds the old one or the new one, never none);
//! and `refresh --ci --watch`: each one made again once less than a third of its life is left,
//! until the watcher is stopped (SIGTERM, SIGINT, or the end of the job).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{CiRequest, run};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::nixconf::ci_logins::{self, CiLogin};
use crate::providers::Registry;
use crate::time::unix_now;

/// The pause, in seconds, after a renewal that failed or yielded a credential already (nearly)
/// expired; each further one in a row doubles, up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: u64 = 2;
const LONGEST_PAUSE: u64 = 60;
/// A renewed credential that expires within this many seconds counts as expired.
const NEARLY_EXPIRED: u64 = FIRST_PAUSE;
/// The longest the watcher sleeps before it reads `ci-logins.json` again.
const TICK: Duration = Duration::from_secs(1);

/// Makes the `login --ci` recorded for `target` again.
fn renew(ctx: &Context, registry: &Registry, target: &str, login: &CiLogin) -> Result<bool> {
    let request = CiRequest {
        target,
        base_url: login.base_url.as_deref(),
        octo_sts: login.octo_sts.as_deref(),
        id_token_env: login.id_token_env.as_deref(),
        no_pixi: login.no_pixi,
    };
    run(ctx, registry, &request)
}

/// Renews every CI credential recorded; returns one sentence per failure.
pub fn renew_all(ctx: &Context, registry: &Registry) -> Result<Vec<String>> {
    let logins = ci_logins::load(&ci_logins::path(&ctx.layout))?;
    if logins.is_empty() {
        return Err(Error::usage(
            "no `login --ci` was made here, so there is nothing to renew; run `nix-tokens login TARGET --ci` first",
        ));
    }
    let mut failed = Vec::new();
    for (target, login) in &logins {
        if let Err(e) = renew(ctx, registry, target, login) {
            failed.push(format!("could not renew {target}: {}", message(&e)));
        }
    }
    Ok(failed)
}

fn message(e: &Error) -> &str {
    match e {
        Error::Usage(m) | Error::Failed(m) => m,
    }
}

/// A pause before `target` is asked again: its last renewal failed, or yielded a credential that
/// had (nearly) expired.
struct Pause {
    until: Instant,
    secs: u64,
}

/// The next pause, in seconds: [`FIRST_PAUSE`] after none, else twice the one `before`, up to
/// [`LONGEST_PAUSE`].
fn next_pause(before: Option<&Pause>) -> u64 {
    before.map_or(FIRST_PAUSE, |p| (p.secs * 2).min(LONGEST_PAUSE))
}

/// How much earlier than by the clock each credential is renewed, keyed by target with the
/// renewal time it was worked out for: the time until renewal, as first seen, shortened by the
/// tests' time scale ([`crate::time::pause`]); nothing without it.
type Early = BTreeMap<String, (u64, Duration)>;

/// Works out [`Early`] for each credential whose renewal time is new.
fn schedule(early: &mut Early, logins: &BTreeMap<String, CiLogin>) {
    early.retain(|t, _| logins.contains_key(t));
    for (target, login) in logins {
        let Some(at) = login.renew_at() else {
            continue;
        };
        if early.get(target).is_none_or(|(seen, _)| *seen != at) {
            let left = until(at);
            early.insert(
                target.clone(),
                (at, left.saturating_sub(crate::time::pause(left))),
            );
        }
    }
}

/// The time from now to unix second `at` (none once it has passed).
fn until(at: u64) -> Duration {
    (UNIX_EPOCH + Duration::from_secs(at))
        .duration_since(SystemTime::now())
        .unwrap_or_default()
}

/// How long until `target`'s credential is renewed next: when a third of its life is left
/// (brought forward by `early`), and not before its pause ends. `None` for a credential that lasts
/// the job.
fn wait(
    paused: &BTreeMap<String, Pause>,
    early: &Early,
    target: &str,
    login: &CiLogin,
) -> Option<Duration> {
    let at = login.renew_at()?;
    let sooner = early
        .get(target)
        .filter(|(seen, _)| *seen == at)
        .map(|(_, by)| *by)
        .unwrap_or_default();
    let by_clock = until(at).saturating_sub(sooner);
    let by_pause = paused
        .get(target)
        .map(|p| p.until.saturating_duration_since(Instant::now()))
        .unwrap_or_default();
    Some(by_clock.max(by_pause))
}

/// Whether the credential just renewed for `target` lives longer than [`NEARLY_EXPIRED`].
fn lasts(path: &Path, target: &str) -> Result<std::result::Result<(), String>> {
    let now = unix_now();
    let expires = ci_logins::load(path)?
        .get(target)
        .and_then(|l| l.expires_at);
    Ok(match expires {
        Some(e) if e <= now => Err("the credential it gave has already expired".to_owned()),
        Some(e) if e <= now + NEARLY_EXPIRED => {
            Err(format!("the credential it gave expires in {} s", e - now))
        }
        _ => Ok(()),
    })
}

/// Renews each CI credential when less than a third of its life is left, until SIGTERM or SIGINT
/// ends the process (as they end any: every write is an atomic rename, so none is left half done)
/// or the job's end does. A renewal that fails, or yields a credential that has (nearly) expired,
/// is tried again after a pause that doubles each time, from [`FIRST_PAUSE`] to [`LONGEST_PAUSE`].
/// Nothing it prints holds a secret: no one reads masks from its output.
pub fn watch(ctx: &Context, registry: &Registry) -> Result<()> {
    crate::flows::ci::stop_masking_in_log();
    let path = ci_logins::path(&ctx.layout);
    let mut paused: BTreeMap<String, Pause> = BTreeMap::new();
    let mut early = Early::new();
    loop {
        let logins = ci_logins::load(&path)?;
        schedule(&mut early, &logins);
        let due: Vec<(&String, &CiLogin)> = logins
            .iter()
            .filter(|(t, l)| wait(&paused, &early, t, l) == Some(Duration::ZERO))
            .collect();
        for (target, login) in due {
            let why = match renew(ctx, registry, target, login).and_then(|_| lasts(&path, target)) {
                Ok(Ok(())) => {
                    paused.remove(target);
                    continue;
                }
                Ok(Err(why)) => format!("renewed {target}, but {why}"),
                Err(e) => format!("could not renew {target}: {}", message(&e)),
            };
            let secs = next_pause(paused.get(target));
            ctx.ui.warn(&format!("{why}; asking again in {secs} s"));
            let until = Instant::now() + crate::time::pause(Duration::from_secs(secs));
            paused.insert(target.clone(), Pause { until, secs });
        }
        let logins = ci_logins::load(&path)?;
        schedule(&mut early, &logins);
        let Some(next) = logins
            .iter()
            .filter_map(|(t, l)| wait(&paused, &early, t, l))
            .min()
        else {
            ctx.ui
                .info("No CI credential here expires: nothing to watch.");
            return Ok(());
        };
        std::thread::sleep(next.min(TICK));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_two_seconds_to_a_minute() {
        let mut before: Option<Pause> = None;
        let mut seen = Vec::new();
        for _ in 0..8 {
            let secs = next_pause(before.as_ref());
            seen.push(secs);
            before = Some(Pause {
                until: Instant::now(),
                secs,
            });
        }
        assert_eq!(seen, [2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn renewal_comes_at_a_third_of_life_left_or_as_early_as_scheduled() {
        let now = unix_now();
        let login = CiLogin {
            obtained_at: now,
            expires_at: Some(now + 300),
            ..CiLogin::default()
        };
        let none = BTreeMap::new();
        let by_clock = wait(&none, &Early::new(), "t", &login).unwrap();
        assert!(by_clock > Duration::from_secs(198) && by_clock <= Duration::from_secs(200));
        let sooner = |at| Early::from([("t".to_owned(), (at, Duration::from_secs(199)))]);
        let early = wait(&none, &sooner(now + 200), "t", &login).unwrap();
        assert!(early <= Duration::from_secs(1), "{early:?}");
        // Worked out for another renewal time: by the clock again.
        let stale = wait(&none, &sooner(now + 100), "t", &login).unwrap();
        assert!(stale > Duration::from_secs(198), "{stale:?}");
        let lasting = CiLogin::default();
        assert_eq!(wait(&none, &Early::new(), "t", &lasting), None);
    }
}
