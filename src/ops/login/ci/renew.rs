//! `refresh --ci`: every `login --ci` of this job made again, which replaces each credential
//! atomically (a Nix reading the netrc meanwhile finds the old one or the new one, never none);
//! and `refresh --ci --watch`: each one made again once less than a third of its life is left,
//! until the watcher is stopped (SIGTERM, SIGINT) or the process that started it exits.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{CiRequest, run};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::nixconf::ci_logins::{self, CiLogin};
use crate::providers::Registry;
use crate::time::unix_now;

/// How long a failed renewal waits before it is tried again.
const RETRY: u64 = 5;
/// How often the watcher looks whether its parent has gone.
const TICK: Duration = Duration::from_millis(100);

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

/// When `target`'s credential is renewed next: when a third of its life is left, or after a
/// failed try's pause.
fn when(retry_at: &BTreeMap<String, u64>, target: &str, login: &CiLogin) -> Option<u64> {
    let at = login.renew_at()?;
    Some(retry_at.get(target).map_or(at, |r| at.max(*r)))
}

/// Renews each CI credential when less than a third of its life is left, until the parent
/// process exits (SIGTERM and SIGINT end it as they end any process: every write is an atomic
/// rename, so none is left half done).
pub fn watch(ctx: &Context, registry: &Registry) -> Result<()> {
    let parent = rustix::process::getppid();
    let path = ci_logins::path(&ctx.layout);
    let mut retry_at: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        let logins = ci_logins::load(&path)?;
        let now = unix_now();
        let due: Vec<(&String, &CiLogin)> = logins
            .iter()
            .filter(|(t, l)| when(&retry_at, t, l).is_some_and(|at| at <= now))
            .collect();
        for (target, login) in due {
            match renew(ctx, registry, target, login) {
                Ok(_) => {
                    retry_at.remove(target);
                }
                Err(e) => {
                    ctx.ui.warn(&format!(
                        "could not renew {target}: {}; trying again in {RETRY} s",
                        message(&e)
                    ));
                    retry_at.insert(target.clone(), unix_now() + RETRY);
                }
            }
        }
        let logins = ci_logins::load(&path)?;
        let Some(next) = logins
            .iter()
            .filter_map(|(t, l)| when(&retry_at, t, l))
            .min()
        else {
            ctx.ui
                .info("No CI credential here expires: nothing to watch.");
            return Ok(());
        };
        while unix_now() < next {
            if rustix::process::getppid() != parent {
                return Ok(());
            }
            std::thread::sleep(TICK);
        }
    }
}
