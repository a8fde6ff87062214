//! What the nix-daemon does with this user's cache settings, flagged on `status`'s rows:
//! - for a user it does not trust, it ignores the user's own netrc (so a cache's credential
//!   there is never sent) and the substituters the user's files add, unless the system
//!   configuration lists them (`substituters`, `trusted-substituters`);
//! - for a trusted user whose own `netrc-file` is set, that netrc replaces the system's, so a
//!   cache whose credential lives only in the system netrc gets none; and Nix 2.34.0's daemon
//!   ignored that netrc altogether.

use std::collections::HashSet;
use std::path::PathBuf;

use super::Row;
use super::caches::{self, CacheRow};
use crate::context::Context;
use crate::nixconf::install::{Destination, Install, Sink, Trust, Verdict};
use crate::nixconf::netrc::Netrc;
use crate::nixconf::view::{self, Setting};
use crate::providers::Registry;

/// Adds `text` to a row's message.
fn note(message: &mut Option<String>, text: &str) {
    *message = Some(match message.take() {
        Some(m) => format!("{m}; {text}"),
        None => text.to_owned(),
    });
}

/// Flags `rows` and `caches` as the daemon of `install` treats them (see the module
/// documentation); warns where no row can carry it.
pub fn flag(
    ctx: &Context,
    install: &Install,
    registry: &Registry,
    settings: &[Setting],
    rows: &mut [Row],
    cache_rows: &mut [CacheRow],
) {
    if !install.daemon {
        return;
    }
    let Ok(system) = view::file_settings(std::slice::from_ref(&install.system_conf)) else {
        return;
    };
    match &install.trust {
        Trust::Daemon {
            verdict: Verdict::Trusted,
            ..
        } => trusted(ctx, install, cache_rows),
        Trust::Daemon { .. } => {
            untrusted(install, registry, settings, &system, rows, cache_rows);
        }
        Trust::Own | Trust::Unknown(_) => {}
    }
}

/// An untrusted user's own cache credentials and substituters, which the daemon ignores.
fn untrusted(
    install: &Install,
    registry: &Registry,
    settings: &[Setting],
    system: &[Setting],
    rows: &mut [Row],
    cache_rows: &mut [CacheRow],
) {
    let system_files: HashSet<&PathBuf> = system.iter().map(|s| &s.file).collect();
    let system_urls: HashSet<String> = caches::substituters(system).into_iter().collect();
    let own: Vec<Setting> = settings
        .iter()
        .filter(|s| !system_files.contains(&s.file))
        .cloned()
        .collect();
    let own_urls = caches::substituters(&own);
    let cache_hosts: HashSet<&str> = cache_rows.iter().map(|c| c.host.as_str()).collect();
    let sudo = "sudo nix-tokens --system";
    for row in rows.iter_mut().filter(|r| r.netrc_login.is_some()) {
        let provider = row.provider.as_deref().and_then(|p| registry.by_name(p));
        let cache = provider.is_some_and(|p| p.forge().serves_substitutes())
            || cache_hosts.contains(row.host.as_str());
        // Where the daemon takes a cache's credential from for this user.
        let only = match install.destination(Sink::Netrc, true, false) {
            Destination::SystemNetrc { netrc, .. } => Some(netrc),
            Destination::Edited(_) => None,
        };
        if cache && only.is_some_and(|netrc| row.source != netrc) {
            let name = provider.map_or("nix-cache", |p| p.name.as_str());
            note(
                &mut row.message,
                &format!(
                    "the nix-daemon does not trust this user, so it never sends this credential to the cache; run `{sudo} login {} --provider {name}`",
                    row.host
                ),
            );
        }
    }
    for row in cache_rows.iter_mut() {
        if own_urls.contains(&row.written) && !system_urls.contains(&row.written) {
            row.ignored_by_daemon = true;
            note(
                &mut row.message,
                &format!(
                    "the nix-daemon ignores it: this user is not trusted, and {} does not list it in trusted-substituters",
                    install.system_conf.display()
                ),
            );
        }
    }
}

/// A trusted user's own netrc replaces the system's: caches whose credential is only there.
fn trusted(ctx: &Context, install: &Install, cache_rows: &mut [CacheRow]) {
    let Some(own) = &install.user_netrc else {
        return;
    };
    if install.ignores_user_netrc() {
        ctx.ui.warn(&format!(
            "Nix 2.34.0's nix-daemon ignores this user's netrc-file ({}) and sends the credentials of {} instead (fixed in 2.34.1)",
            own.display(),
            install.system_netrc.display()
        ));
        return;
    }
    if *own == install.system_netrc {
        return;
    }
    let system = match crate::nixconf::seen::read_text(&install.system_netrc) {
        Ok(Some(text)) => Netrc::parse(&text),
        Ok(None) => return,
        Err(_) => {
            ctx.ui.warn(&format!(
                "the nix-daemon reads {} for this user instead of {} (nothing is merged), and nix-tokens cannot read {} to tell which caches have their credential only there",
                own.display(),
                install.system_netrc.display(),
                install.system_netrc.display()
            ));
            return;
        }
    };
    let mine = crate::nixconf::seen::read_text(own)
        .ok()
        .flatten()
        .map(|t| Netrc::parse(&t))
        .unwrap_or_default();
    for row in cache_rows.iter_mut() {
        if system.get(&row.host).is_some() && mine.get(&row.host).is_none() {
            note(
                &mut row.message,
                &format!(
                    "its credential is only in {}, which the nix-daemon does not read for this user (this user's {} replaces it); the next `nix-tokens login` that writes that netrc offers to copy it",
                    install.system_netrc.display(),
                    own.display()
                ),
            );
        }
    }
}
