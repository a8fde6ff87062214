//! `nix-tokens status [HOST...]`: every token Nix will see, from which file, masked, and (unless
//! `--offline`) what its provider says of it: all checks at once, each with its own timeout.
//! The exit code tells scripts whether every checked token works.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use std::time::Duration;

use super::Context;
use super::refresh::renew_due;
use crate::error::{Result, exit};
use crate::http::{self, Http};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::netrc::Netrc;
use crate::nixconf::oauth::OAuthLogins;
use crate::nixconf::{fsio, nix_version, tokens, view};
use crate::providers::check::{self, Verdict, missing_scopes};
use crate::providers::{Kind, Registry, detect};
use crate::secret::{Secret, fingerprint, mask};
use crate::time;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these hosts (github.com also matches github.com/my-org)
    pub hosts: Vec<String>,
    /// Do not contact any provider; list what Nix will see (every token `unverified`)
    #[arg(long)]
    pub offline: bool,
    /// Print one JSON document (an array of objects) instead of a table
    #[arg(long)]
    pub json: bool,
    /// Do not renew OAuth tokens that are about to expire before checking them
    #[arg(long)]
    pub no_refresh: bool,
}

/// One token as `status` reports it; the JSON keys are documented in the README.
#[derive(Debug, Serialize)]
struct Row {
    host: String,
    provider: Option<String>,
    user: Option<String>,
    scopes: Vec<String>,
    expires_at: Option<String>,
    status: &'static str,
    source: PathBuf,
    token: String,
    message: Option<String>,
    /// The token to check; `None` for one Nix does not use.
    #[serde(skip)]
    secret: Option<Secret<String>>,
}

pub fn run(ctx: &Context, args: StatusArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    // Checking before `nix flake update` also heals: expiring OAuth logins are renewed first.
    if !args.offline && !args.no_refresh && ctx.layout.oauth.exists() {
        for failure in renew_due(ctx, &registry, &[], REFRESH_WITHIN)?.failed {
            ctx.ui.warn(&failure);
        }
    }
    let remembered = Hosts::load(&ctx.layout.hosts)?;
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
        for entry in Netrc::parse(&text).entries() {
            let (Some(host), Some(password)) = (&entry.machine, &entry.password) else {
                continue;
            };
            rows.push(Row {
                host: host.clone(),
                provider: provider_of(host),
                user: None,
                scopes: Vec::new(),
                expires_at: None,
                status: "unverified",
                source: netrc_path.clone(),
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

    let mut missing = Vec::new();
    if !args.hosts.is_empty() {
        let wanted: Vec<String> = args
            .hosts
            .iter()
            .map(|h| registry.resolve_target(h, None).map(|(k, _)| k))
            .collect::<Result<_>>()?;
        rows.retain(|r| {
            wanted
                .iter()
                .any(|w| r.host == *w || r.host.starts_with(&format!("{w}/")))
        });
        missing = wanted
            .into_iter()
            .filter(|w| {
                !rows
                    .iter()
                    .any(|r| tokens::key_host(&r.host) == tokens::key_host(w))
            })
            .collect();
    }

    if !args.offline {
        check_all(&registry, &remembered, &mut rows)?;
    }
    // An OAuth login knows when its token expires, where the provider does not say.
    let logins = OAuthLogins::load(&ctx.layout.oauth)?;
    for row in rows.iter_mut().filter(|r| r.expires_at.is_none()) {
        if let Some(login) = logins.logins.get(&row.host)
            && login.access_fingerprint.is_some()
            && row.secret.as_ref().map(fingerprint) == login.access_fingerprint
        {
            row.expires_at = Some(time::rfc3339_unix(login.expires_at));
        }
    }

    if args.json {
        let json = serde_json::to_string_pretty(&rows).expect("status rows always serialize");
        println!("{json}");
    } else if rows.is_empty() {
        ctx.ui.info("Nix sees no access tokens. Add one with `nix-tokens login` or `nix-tokens set-token HOST`.");
    } else {
        print_table(&rows);
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
    Ok(ExitCode::from(if any(&["invalid", "expired", "revoked"]) {
        exit::INVALID
    } else if any(&["unreachable"]) {
        exit::UNREACHABLE
    } else if !missing.is_empty() {
        exit::FAILURE
    } else {
        exit::OK
    }))
}

/// `status` renews OAuth logins with less than this many seconds left.
const REFRESH_WITHIN: u64 = 5 * 60;

/// How long one token's check may take, all requests included.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Asks every row's provider about its token, all at once, and fills in the verdicts.
fn check_all(registry: &Registry, remembered: &Hosts, rows: &mut [Row]) -> Result<()> {
    let http = Http::new()?;
    let runtime = http::runtime()?;
    runtime.block_on(async {
        let mut checks = tokio::task::JoinSet::new();
        for (i, row) in rows.iter_mut().enumerate() {
            let Some(secret) = row.secret.clone() else {
                continue;
            };
            // A token added by hand for a host no one named is recognised and checked at once.
            let provider = row
                .provider
                .as_deref()
                .and_then(|n| registry.by_name(n))
                .cloned();
            let host = tokens::key_host(&row.host).to_owned();
            let base = remembered.get(&host).and_then(|h| h.base_url.clone());
            let base = match http::base_url(&host, base.as_deref()) {
                Ok(base) => base,
                Err(e) => {
                    row.status = "unreachable";
                    row.message = Some(e.to_string());
                    continue;
                }
            };
            let http = http.clone();
            let named = |name: &str| registry.by_name(name).cloned();
            let (github, gitlab, gitea) = (named("github"), named("gitlab"), named("gitea"));
            let forgejo = named("forgejo");
            checks.spawn(async move {
                let work = async {
                    if let Some(provider) = provider {
                        let verdict = check::check(&http, &provider, &host, &base, &secret).await;
                        return (verdict, Some(provider));
                    }
                    let (Some(github), Some(gitlab), Some(gitea)) = (&github, &gitlab, &gitea)
                    else {
                        return (Verdict::Unverified("unknown provider".into()), None);
                    };
                    let with = detect::IdentifyWith {
                        github,
                        gitlab,
                        gitea,
                    };
                    let (verdict, kind) =
                        detect::identify_and_check(&http, &with, &host, &base, &secret).await;
                    let provider = match kind {
                        Some(Kind::Github) => Some(github.clone()),
                        Some(Kind::Gitlab) => Some(gitlab.clone()),
                        Some(Kind::Forgejo) => forgejo.clone().or(Some(gitea.clone())),
                        Some(_) => Some(gitea.clone()),
                        None => None,
                    };
                    (verdict, provider)
                };
                let (verdict, provider) = tokio::time::timeout(CHECK_TIMEOUT, work)
                    .await
                    .unwrap_or_else(|_| {
                        let why = format!("no answer within {} seconds", CHECK_TIMEOUT.as_secs());
                        (Verdict::Unreachable(why), None)
                    });
                (i, verdict, provider)
            });
        }
        while let Some(done) = checks.join_next().await {
            if let Ok((i, verdict, provider)) = done {
                let wanted = provider
                    .as_ref()
                    .map(|p| p.scopes.clone())
                    .unwrap_or_default();
                if let Some(p) = provider {
                    rows[i].provider = Some(p.name);
                }
                apply(&mut rows[i], verdict, &wanted);
            }
        }
    });
    Ok(())
}

/// Puts a provider's verdict into a row: status, user, scopes, expiry, and a note.
fn apply(row: &mut Row, verdict: Verdict, wanted: &[String]) {
    let mut notes: Vec<String> = row.message.take().into_iter().collect();
    match verdict {
        Verdict::Valid(id) => {
            let now = time::unix_now();
            let expires = id.expires_at.as_deref().and_then(time::parse_rfc3339);
            row.status = if expires.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "valid"
            };
            if let Some(left) = expires.and_then(|e| e.checked_sub(now))
                && left < 14 * 86_400
            {
                notes.push(format!("expires in {} days", left / 86_400));
            }
            if let Some(scopes) = &id.scopes {
                let missing = missing_scopes(wanted, scopes);
                if !missing.is_empty() {
                    notes.push(format!(
                        "lacks the scope(s) {} that Nix needs for private repositories",
                        missing.join(", ")
                    ));
                }
            }
            if let Some((left, limit)) = id.rate_limit {
                notes.push(format!("rate limit {left} of {limit} left this hour"));
            }
            row.user = Some(id.user);
            row.scopes = id.scopes.unwrap_or_default();
            row.expires_at = id.expires_at;
        }
        Verdict::Rejected(why) => {
            // Providers say why in their own words (GitLab: "Token was revoked", "Token is
            // expired"); the verdict follows them, and is "invalid" otherwise.
            let lower = why.to_lowercase();
            row.status = if lower.contains("revoked") {
                "revoked"
            } else if lower.contains("expired") {
                "expired"
            } else {
                "invalid"
            };
            notes.push(why);
        }
        Verdict::Unreachable(why) => {
            row.status = "unreachable";
            notes.push(why);
        }
        Verdict::Unverified(why) => notes.push(why),
    }
    row.message = (!notes.is_empty()).then(|| notes.join("; "));
}

fn print_table(rows: &[Row]) {
    let header = ["HOST", "PROVIDER", "USER", "TOKEN", "STATUS", "SOURCE"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.host.clone(),
                r.provider.clone().unwrap_or_else(|| "unknown".to_owned()),
                r.user.clone().unwrap_or_else(|| "-".to_owned()),
                r.token.clone(),
                r.status.to_owned(),
                r.source.display().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 6]| {
        let mut out = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i + 1 == cols.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{out}");
    };
    line(header);
    for (row, r) in cells.iter().zip(rows) {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
        if let Some(m) = &r.message {
            println!("  {m}");
        }
    }
}
