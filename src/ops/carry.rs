//! Carrying binary caches' credentials over from the system netrc. Where Nix downloads from caches
//! with this user's settings (single-user, or a nix-daemon that trusts this user), the user's own
//! `netrc-file` *replaces* the system's: nothing is merged, so a cache whose entry is only in the
//! system netrc gets no credential for this user. When `login` or `set-token` writes such a netrc,
//! the entries of the caches Nix reads that only the system netrc has (and this user can read)
//! are offered to be copied along, in the same locked write: asked at a terminal, copied with
//! `--yes`, and otherwise the way to copy them is said.

use std::collections::HashSet;

use crate::context::Context;
use crate::error::Result;
use crate::nixconf::install::{Destination, Install};
use crate::nixconf::netrc::Netrc;
use crate::nixconf::picture::Picture;
use crate::nixconf::store::Session;
use crate::providers::Sink;
use crate::secret::Secret;

/// One netrc entry to copy: host, login and password.
pub type Entry = (String, String, Secret<String>);

/// The entries to copy into the netrc `session` writes for `host`; empty when there is nothing to
/// copy or the person said no.
pub fn offer(ctx: &Context, session: &Session, sink: Sink, host: &str) -> Result<Vec<Entry>> {
    if ctx.layout.system || sink != Sink::Netrc {
        return Ok(Vec::new());
    }
    let install = Install::detect(&ctx.layout, false)?;
    let system = &install.system_netrc;
    // Only where the process that substitutes reads this user's own netrc (Nix is not asked here,
    // so this is exactly where it applies the user's settings).
    let own = install.destination(Sink::Netrc, true, false) == Destination::Edited(Sink::Netrc);
    if !own || session.netrc_path() == system.as_path() {
        return Ok(Vec::new());
    }
    // A system netrc this user may not read offers nothing (status says so).
    let Ok(Some(text)) = crate::nixconf::seen::read_text(system) else {
        return Ok(Vec::new());
    };
    let caches = cache_hosts(ctx);
    let entries: Vec<Entry> = Netrc::parse(&text)
        .entries()
        .iter()
        .filter_map(|e| {
            let machine = e.machine.clone()?;
            let password = e.password.clone()?;
            let wanted = caches.contains(&machine)
                && machine != host
                && session.netrc().get(&machine).is_none();
            wanted.then(|| (machine, e.login.clone().unwrap_or_default(), password))
        })
        .collect();
    if entries.is_empty() {
        return Ok(entries);
    }
    let names: Vec<&str> = entries.iter().map(|(h, _, _)| h.as_str()).collect();
    let what = format!(
        "{} replaces {} for this user's downloads from binary caches (nothing is merged), and only {} has the credentials for {}",
        session.netrc_path().display(),
        system.display(),
        system.display(),
        names.join(", ")
    );
    if !ctx.ui.assume_yes && !ctx.ui.interactive {
        ctx.ui.warn(&format!(
            "{what}; run the command again with --yes (`nix-tokens --yes …`) to copy them along"
        ));
        return Ok(Vec::new());
    }
    let copy = ctx
        .ui
        .confirm(&format!("{what}. Copy them along?"), String::new)?;
    Ok(if copy { entries } else { Vec::new() })
}

/// The hosts of every substituter Nix reads.
fn cache_hosts(ctx: &Context) -> HashSet<String> {
    let settings = Picture::read(&ctx.layout)
        .map(|p| p.settings)
        .unwrap_or_default();
    settings
        .iter()
        .filter(|s| s.name.ends_with("substituters"))
        .flat_map(|s| {
            s.value
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|u| reqwest::Url::parse(&u).ok()?.host_str().map(str::to_owned))
        .collect()
}
