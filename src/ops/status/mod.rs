//! `status`: every token Nix will see, from which file, masked, and (unless offline) what its
//! provider says of it and what it may do beyond reading, all checks at once (see [`check`]);
//! shown as a table ([`table`]) or one JSON document whose keys the README documents. A token that
//! can write is valid all the same: its privileges change no exit code.

mod check;
mod table;

use std::path::PathBuf;

use serde::Serialize;

use super::refresh::renew_due;
use crate::context::Context;
use crate::error::Result;
use crate::nixconf::hosts::Hosts;
use crate::nixconf::netrc::Netrc;
use crate::nixconf::oauth::OAuthLogins;
use crate::nixconf::{fsio, nix_version, tokens, view};
use crate::providers::Registry;
use crate::providers::shared::Privileges;
use crate::secret::{Secret, fingerprint, mask};
use crate::time;

/// What `status` is asked to do.
pub struct StatusPlan {
    /// Only these keys (a host also covers its owner keys); all when empty.
    pub wanted: Vec<String>,
    pub offline: bool,
    pub json: bool,
    /// Renew expiring OAuth logins first.
    pub refresh: bool,
}

/// What `status` found, for its exit code.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every token checked works.
    Fine,
    /// A token was refused, has expired or was revoked.
    Invalid,
    /// A provider could not be reached (and none refused a token).
    Unreachable,
    /// A host asked for has no token.
    Missing,
}

/// One token as `status` reports it; the JSON keys are documented in the README.
#[derive(Debug, Serialize)]
struct Row {
    host: String,
    provider: Option<String>,
    user: Option<String>,
    scopes: Vec<String>,
    /// What a valid token may do beyond reading; `None` until its provider has checked it.
    privileges: Option<Privileges>,
    expires_at: Option<String>,
    status: &'static str,
    source: PathBuf,
    token: String,
    message: Option<String>,
    /// The token to check; `None` for one Nix does not use.
    #[serde(skip)]
    secret: Option<Secret<String>>,
}

/// `status` renews OAuth logins with less than this many seconds left.
const REFRESH_WITHIN: u64 = 5 * 60;

pub fn run(ctx: &Context, registry: &Registry, plan: &StatusPlan) -> Result<Outcome> {
    // Checking before `nix flake update` also heals: expiring OAuth logins are renewed first.
    if !plan.offline && plan.refresh && ctx.layout.oauth.exists() {
        for failure in renew_due(ctx, registry, &[], REFRESH_WITHIN)?.failed {
            ctx.ui.warn(&failure);
        }
    }
    let remembered = Hosts::load(&ctx.layout.hosts)?;
    let mut rows = rows(ctx, registry, &remembered)?;
    let mut missing = Vec::new();
    if !plan.wanted.is_empty() {
        rows.retain(|r| {
            plan.wanted
                .iter()
                .any(|w| r.host == *w || r.host.starts_with(&format!("{w}/")))
        });
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
    if !plan.offline {
        check::check_all(registry, &remembered, &mut rows)?;
    }
    add_login_expiry(ctx, &mut rows)?;
    if plan.json {
        let json = serde_json::to_string_pretty(&rows).expect("status rows always serialize");
        println!("{json}");
    } else if rows.is_empty() {
        ctx.ui.info("Nix sees no access tokens. Add one with `nix-tokens login` or `nix-tokens set-token HOST`.");
    } else {
        table::print(&rows);
    }
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
    let any = |wanted: &[&str]| rows.iter().any(|r| wanted.contains(&r.status));
    Ok(if any(&["invalid", "expired", "revoked"]) {
        Outcome::Invalid
    } else if any(&["unreachable"]) {
        Outcome::Unreachable
    } else if !missing.is_empty() {
        Outcome::Missing
    } else {
        Outcome::Fine
    })
}

/// Every token Nix reads, from access-tokens and from its netrc, unchecked; with a warning for
/// each file Nix cannot read or others can.
fn rows(ctx: &Context, registry: &Registry, remembered: &Hosts) -> Result<Vec<Row>> {
    // The provider nix-tokens remembers for a host, else the one whose default host it is.
    let provider_of = |host: &str| {
        remembered
            .get(host)
            .map(|h| h.provider.clone())
            .or_else(|| registry.by_host(host).map(|p| p.name.clone()))
    };
    let files = ctx.layout.nix_read_order();
    for f in &files {
        ctx.ui.detail(&format!("reading {}", f.display()));
    }
    let settings = view::settings_in_order(&files)?;
    // Nix skips a file it may not read without a word; say so, or its tokens vanish unexplained.
    for f in files.iter().chain([&ctx.layout.token_file]) {
        if let Err(e) = std::fs::File::open(f)
            && e.kind() == std::io::ErrorKind::PermissionDenied
        {
            ctx.ui.warn(&format!(
                "{} cannot be read (permission denied), so Nix skips it; check its permissions",
                f.display()
            ));
        }
    }
    let mut rows: Vec<Row> = view::access_tokens(&settings)
        .into_iter()
        .map(|t| Row {
            provider: provider_of(tokens::key_host(&t.key)),
            host: t.key,
            user: None,
            scopes: Vec::new(),
            privileges: None,
            expires_at: None,
            status: "unverified",
            token: mask(&t.token),
            secret: t.shadowed_by.is_none().then_some(t.token),
            message: t
                .shadowed_by
                .map(|by| format!("not used by Nix: overridden by {}", by.display())),
            source: t.file,
        })
        .collect();
    let netrc_path = view::netrc_file(&settings, &ctx.layout.system_dir);
    if let Ok(Some(text)) = fsio::read_optional(&netrc_path) {
        rows.extend(netrc_rows(&Netrc::parse(&text), &netrc_path, &provider_of));
    }
    for source in [&ctx.layout.token_file, &netrc_path] {
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

/// The rows of a netrc's entries that hold a password.
fn netrc_rows(
    netrc: &Netrc,
    path: &std::path::Path,
    provider_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for entry in netrc.entries() {
        let (Some(host), Some(password)) = (&entry.machine, &entry.password) else {
            continue;
        };
        rows.push(Row {
            host: host.clone(),
            provider: provider_of(host),
            user: None,
            scopes: Vec::new(),
            privileges: None,
            expires_at: None,
            status: "unverified",
            source: path.to_path_buf(),
            token: mask(password),
            secret: Some(password.clone()),
            message: entry.login.as_ref().map(|l| {
                // Some set-ups put the token in the login; it is masked like one.
                let shown = if tokens::looks_like_token(l) || l.len() >= 30 {
                    mask(&Secret::from(l.as_str()))
                } else {
                    l.clone()
                };
                format!("netrc login {shown}")
            }),
        });
    }
    rows
}

/// An OAuth login knows when its token expires, where the provider does not say.
fn add_login_expiry(ctx: &Context, rows: &mut [Row]) -> Result<()> {
    let logins = OAuthLogins::load(&ctx.layout.oauth)?;
    for row in rows.iter_mut().filter(|r| r.expires_at.is_none()) {
        if let Some(login) = logins.logins.get(&row.host)
            && login.access_fingerprint.is_some()
            && row.secret.as_ref().map(fingerprint) == login.access_fingerprint
        {
            row.expires_at = Some(time::rfc3339_unix(login.expires_at));
        }
    }
    Ok(())
}
