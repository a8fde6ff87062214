//! `status`: every token Nix will see, from which file, masked, and (unless offline) what its
//! provider says of it and what it may do beyond reading, all checks at once (see [`check`]);
//! shown as a table ([`table`]) or one JSON document whose keys docs/json.md documents. A token that
//! can write is valid all the same: its privileges change no exit code.

mod caches;
mod check;
mod daemon;
mod expiry;
mod table;
mod trust;

use std::path::PathBuf;

use serde::Serialize;

use super::refresh::{RENEW_WITHIN, renew_due};
use crate::context::Context;
use crate::error::Result;
use crate::nixconf::determinate;
use crate::nixconf::hosts::Hosts;
use crate::nixconf::install::{Install, Trust};
use crate::nixconf::picture::{Origin, Picture};
use crate::nixconf::{fsio, nix_version, pasted, tokens};
use crate::ops::statuses::{self, TokenStatus};
use crate::providers::Registry;
use crate::providers::shared::Privileges;
use crate::secret::{Secret, mask};

/// What `status` is asked to do.
pub struct StatusPlan {
    /// Only these keys (a host also covers its owner keys); all when empty.
    pub wanted: Vec<String>,
    pub offline: bool,
    pub json: bool,
    /// Renew expiring OAuth logins first.
    pub refresh: bool,
    /// A credential that nothing renews and that expires within this many days is `expiring`.
    pub warn_days: u64,
}

/// One token as `status` reports it; the JSON keys are documented in docs/json.md.
#[derive(Debug, Serialize)]
struct Row {
    kind: &'static str,
    host: String,
    provider: Option<String>,
    user: Option<String>,
    scopes: Vec<String>,
    /// What a valid token may do beyond reading; `None` until its provider has checked it.
    privileges: Option<Privileges>,
    expires_at: Option<String>,
    status: TokenStatus,
    source: PathBuf,
    token: String,
    message: Option<String>,
    /// The token to check; `None` for one Nix does not use.
    #[serde(skip)]
    secret: Option<Secret<String>>,
    /// The netrc login beside the token, for a netrc entry.
    #[serde(skip)]
    netrc_login: Option<String>,
}

/// Runs `status`; the exit code is the most serious of its rows' (see [`statuses::worst`]), and a
/// failure when a host asked for has no token.
pub fn run(ctx: &Context, registry: &Registry, plan: &StatusPlan) -> Result<u8> {
    // Checking before `nix flake update` also heals: expiring OAuth logins are renewed first.
    if !plan.offline && plan.refresh && ctx.layout.oauth.exists() {
        for failure in renew_due(ctx, registry, &[], RENEW_WITHIN)?.failed {
            ctx.ui.warn(&failure);
        }
    }
    let remembered = Hosts::load(&ctx.layout.hosts)?;
    let files = ctx.layout.nix_read_order();
    for f in &files {
        ctx.ui.detail(&format!("reading {}", f.display()));
    }
    show_determinate(ctx);
    let picture = Picture::read(&ctx.layout)?;
    let settings = &picture.settings;
    let mut rows = rows(ctx, registry, &remembered, &picture)?;
    // Offline, nothing is run: the daemon's trust is estimated from the system configuration.
    let install = Install::with(&ctx.layout, !plan.offline, settings)?;
    let urls = caches::substituters(settings);
    let mut caches = caches::rows(&urls, &install);
    caches::find_keys(&mut caches, settings, &remembered);
    let mut missing = Vec::new();
    if !plan.wanted.is_empty() {
        rows.retain(|r| tokens::key_wanted(&r.host, &plan.wanted));
        caches.retain(|c| tokens::key_wanted(&c.host, &plan.wanted));
        missing = plan
            .wanted
            .iter()
            .filter(|w| {
                !rows
                    .iter()
                    .any(|r| tokens::key_host(&r.host) == tokens::key_host(w))
            })
            .cloned()
            .collect();
    }
    flag_unused_cache_tokens(registry, &remembered, &urls, &mut rows);
    if !plan.offline {
        check::check_all(
            registry,
            &remembered,
            &urls,
            &mut rows,
            &mut caches,
            &install,
            plan.warn_days,
        )?;
    }
    daemon::flag(ctx, &install, registry, settings, &mut rows, &mut caches);
    expiry::mark(ctx, &mut rows, plan.warn_days)?;
    show(ctx, plan, &install, &rows, &caches);
    if let Some(owner) = rows
        .iter()
        .find(|r| r.secret.is_some() && r.host.contains('/'))
        && let Some(warning) = nix_version::owner_key_warning(&owner.host)
    {
        ctx.ui.warn(&warning);
    }
    for host in &missing {
        ctx.ui.warn(&format!("Nix has no token for {host}"));
    }
    let codes = rows.iter().map(|r| r.status.exit_code());
    let codes = codes.chain(caches.iter().map(|c| c.status.exit_code()));
    let no_token = (!missing.is_empty()).then_some(crate::error::exit::FAILURE);
    Ok(statuses::worst(codes.chain(no_token)))
}

/// On Determinate Nix, which file is whose (on standard error, before the tables).
fn show_determinate(ctx: &Context) {
    let found = match &ctx.layout.determinate {
        Some(known) => Ok(Some(known.clone())),
        None if ctx.layout.system => Ok(None),
        None => determinate::detect_installed(&ctx.layout.system_dir),
    };
    if let Ok(Some(determinate)) = found {
        for (file, owner) in determinate.ownership() {
            ctx.ui.info(&format!("{}: {owner}", file.display()));
        }
    }
}

/// Prints the tokens, then the binary caches: one JSON array, or the tables.
fn show(
    ctx: &Context,
    plan: &StatusPlan,
    install: &Install,
    rows: &[Row],
    caches: &[caches::CacheRow],
) {
    if plan.json {
        let value = |v: Result<serde_json::Value, _>| v.expect("status rows are plain data");
        let all: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| value(serde_json::to_value(r)))
            .chain(caches.iter().map(|c| value(serde_json::to_value(c))))
            // A plain single-user install (the user's files are all that count) adds nothing.
            .chain(
                (install.daemon || install.managed.is_some())
                    .then(|| serde_json::json!({"kind": "install", "install": install.summary()})),
            )
            .collect();
        let json = serde_json::to_string_pretty(&all).expect("status rows always serialize");
        println!("{json}");
        return;
    }
    ctx.ui.info(&install.line());
    if let Trust::Unknown(why) = &install.trust {
        ctx.ui.warn(why);
    }
    if rows.is_empty() {
        ctx.ui.info("Nix sees no access tokens. Add one with `nix-tokens login` or `nix-tokens set-token HOST`.");
    } else {
        table::print(rows);
    }
    table::print_caches(caches);
}

/// Every token Nix reads, from access-tokens and from its netrc, unchecked; with a warning for
/// each file Nix cannot read or others can.
fn rows(
    ctx: &Context,
    registry: &Registry,
    remembered: &Hosts,
    picture: &Picture,
) -> Result<Vec<Row>> {
    let provider_of = |host: &str| registry.serving(host, remembered).map(|p| p.name.clone());
    // Nix skips a file it may not read without a word; say so, or its tokens vanish unexplained.
    let files = ctx.layout.nix_read_order();
    for f in files.iter().chain([&ctx.layout.token_file]) {
        if let Ok(crate::nixconf::seen::Read::Unreadable(e)) = crate::nixconf::seen::read(f)
            && e.kind() == std::io::ErrorKind::PermissionDenied
        {
            ctx.ui.warn(&format!(
                "{} cannot be read (permission denied), so Nix skips it; check its permissions",
                f.display()
            ));
        }
    }
    let seen = picture.tokens.clone();
    // The line of each access-tokens row (netrc rows, after them, have none).
    let lines: Vec<Option<usize>> = seen.iter().map(|t| Some(t.line)).collect();
    let mut rows: Vec<Row> = seen
        .into_iter()
        .map(|t| Row {
            kind: "token",
            provider: provider_of(tokens::key_host(&t.key)),
            host: t.key,
            user: None,
            scopes: Vec::new(),
            privileges: None,
            expires_at: None,
            status: TokenStatus::Unverified,
            token: mask(&t.token),
            secret: t.shadowed_by.is_none().then_some(t.token),
            netrc_login: None,
            message: t
                .shadowed_by
                .map(|by| format!("not used by Nix: overridden by {}", by.display())),
            source: t.file,
        })
        .collect();
    let netrc_path = &picture.netrc_path;
    rows.extend(netrc_rows(picture, &provider_of));
    // When the netrc cannot be read, its logins are not listed: say why.
    if let Err(e) = &picture.netrc {
        ctx.ui.warn(e);
    }
    flag_pasted_tokens(&mut rows, lines);
    for source in [&ctx.layout.token_file, netrc_path] {
        if fsio::mode_of(source).is_some_and(|m| m & 0o077 != 0) {
            ctx.ui.warn(&format!(
                "{} is readable by other users; run `chmod 600 {}`",
                source.display(),
                source.display()
            ));
        }
    }
    Ok(rows)
}

/// A token pasted where the host belongs (`lines` has each row's line, when it has one) is shown
/// masked, never checked (so never contacted), counts as invalid, and its message says which line
/// to fix.
fn flag_pasted_tokens(rows: &mut [Row], lines: Vec<Option<usize>>) {
    let lines = lines.into_iter().chain(std::iter::repeat(None));
    for (row, line) in rows.iter_mut().zip(lines) {
        if pasted::token_shaped(&row.host) {
            let sentence = pasted::fix_sentence(&row.host, &row.source, line);
            row.host = pasted::shown(&row.host);
            row.provider = None;
            row.secret = None;
            row.status = TokenStatus::Invalid;
            row.message = Some(sentence);
        }
    }
}

/// The rows of a netrc's entries that hold a password.
fn netrc_rows(picture: &Picture, provider_of: &dyn Fn(&str) -> Option<String>) -> Vec<Row> {
    picture
        .credentials()
        .into_iter()
        .filter(|c| c.origin == Origin::Netrc)
        .map(|c| Row {
            kind: "token",
            provider: provider_of(&c.key),
            host: c.key,
            user: None,
            scopes: Vec::new(),
            privileges: None,
            expires_at: None,
            status: TokenStatus::Unverified,
            source: c.file,
            token: mask(&c.secret),
            secret: Some(c.secret),
            netrc_login: Some(c.login.clone().unwrap_or_default()),
            message: c.login.as_ref().map(|l| {
                // Some set-ups put the token in the login; it is masked like one.
                let shown = if tokens::looks_like_token(l) || l.len() >= 30 {
                    mask(&Secret::from(l.as_str()))
                } else {
                    l.clone()
                };
                format!("netrc login {shown}")
            }),
        })
        .collect()
}

/// The substituter a cache token is for: the one remembered at login, else one Nix reads on the
/// same host, else its provider's for the host.
fn cache_url(
    registry: &Registry,
    remembered: &Hosts,
    urls: &[String],
    host: &str,
    provider: &str,
) -> Option<String> {
    let provider = registry
        .by_name(provider)
        .filter(|p| p.forge().serves_substitutes())?;
    remembered
        .get(host)
        .and_then(|h| h.base_url.clone())
        .or_else(|| {
            urls.iter()
                .find(|u| reqwest::Url::parse(u).is_ok_and(|u| u.host_str() == Some(host)))
                .cloned()
        })
        .or_else(|| provider.substituter(host, None))
}

/// A cache's token that no `substituters` setting uses is said to be unused.
fn flag_unused_cache_tokens(
    registry: &Registry,
    remembered: &Hosts,
    urls: &[String],
    rows: &mut [Row],
) {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    for row in rows.iter_mut() {
        let Some(provider) = row.provider.as_deref() else {
            continue;
        };
        let Some(url) = cache_url(registry, remembered, urls, &row.host, provider) else {
            continue;
        };
        if !urls.iter().any(|u| same(u, &url)) {
            let note = format!(
                "no substituters setting names {}, so Nix never downloads from it",
                crate::secret::mask_url(&url)
            );
            row.message = Some(match row.message.take() {
                Some(m) => format!("{m}; {note}"),
                None => note,
            });
        }
    }
}
