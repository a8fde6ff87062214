//! `nix-tokens status [HOST...]`: every token Nix will see, from which file, masked.
//!
//! This build checks nothing over the network: every token is reported as `unverified`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::Context;
use crate::error::{Result, exit};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::netrc::Netrc;
use crate::nixconf::{fsio, tokens, view};
use crate::secret::{Secret, mask};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these hosts (github.com also matches github.com/my-org)
    pub hosts: Vec<String>,
    /// Do not contact any provider; list what Nix will see
    #[arg(long)]
    pub offline: bool,
    /// Print one JSON document (an array of objects) instead of a table
    #[arg(long)]
    pub json: bool,
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
}

pub fn run(ctx: &Context, args: StatusArgs) -> Result<ExitCode> {
    if !args.offline {
        ctx.ui
            .detail("this build does not check tokens online; listing what Nix will see");
    }
    let registry = ctx.registry()?;
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

    if args.json {
        let json = serde_json::to_string_pretty(&rows).expect("status rows always serialize");
        println!("{json}");
    } else if rows.is_empty() {
        ctx.ui.info("Nix sees no access tokens. Add one with `nix-tokens login` or `nix-tokens set-token HOST`.");
    } else {
        print_table(&rows);
    }
    for host in &missing {
        ctx.ui.warn(&format!("Nix has no token for {host}"));
    }
    Ok(ExitCode::from(if missing.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    }))
}

fn print_table(rows: &[Row]) {
    let header = ["HOST", "PROVIDER", "TOKEN", "STATUS", "SOURCE"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.host.clone(),
                r.provider.clone().unwrap_or_else(|| "unknown".to_owned()),
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
    let line = |cols: [&str; 5]| {
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
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
        if let Some(m) = &r.message {
            println!("  {m}");
        }
    }
}
