//! `check`: whether Nix will be able to fetch each input of a flake's lock file, before
//! `nix flake update` fails on one of them. Each input of the lock ([`lock`]) is reached the way
//! Nix reaches it ([`target`]) with the credential Nix will send ([`credential`]); what to ask
//! about it ([`questions`]) is asked of every forge, server and git repository at once
//! ([`probe`], [`git`]), many repositories of one forge in one question where it has a batch
//! ([`batch`]), within limits per host and a rate limit's waits ([`polite`]); each answer becomes
//! a verdict, a reason and a fix ([`verdict`]), shown as a table ([`table`]) or one JSON document
//! whose keys docs/json.md documents. How many requests went to each host is told with `-v` and
//! in a GitHub Actions step summary.

mod batch;
mod credential;
mod download;
mod git;
mod lock;
mod names;
mod polite;
mod probe;
mod questions;
mod table;
mod target;
mod verdict;

use std::path::{Path, PathBuf};

use serde::Serialize;

use self::credential::{Credential, Seen};
use self::probe::Found;
use self::target::{Fetch, Target};
use self::verdict::{Facts, Judged};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::gitcred::gitconfig::GitConfig;
use crate::nixconf::hosts::Hosts;
use crate::nixconf::picture::Picture;
use crate::nixconf::tokens::key_host;
use crate::nixconf::{nix_version, pasted};
use crate::ops::statuses::{self, InputVerdict};
use crate::providers::Registry;
use crate::secret::mask;

/// What `check` is asked to do.
pub struct CheckPlan {
    /// The lock file to read.
    pub lock: PathBuf,
    pub offline: bool,
    pub json: bool,
}

/// One input as `check` reports it; the JSON keys are documented in docs/json.md.
#[derive(Debug, Serialize)]
struct Row {
    input: String,
    #[serde(rename = "type")]
    kind: String,
    url: String,
    credential: Option<String>,
    source: Option<PathBuf>,
    verdict: InputVerdict,
    /// The reason and then each note, `; ` between them.
    reason: String,
    fix: Option<String>,
    /// The reason alone, and the notes: the table prints a note several inputs share once.
    #[serde(skip)]
    own: String,
    #[serde(skip)]
    notes: Vec<String>,
}

/// github.com answers this many API requests an hour without a token.
const ANONYMOUS_LIMIT: u64 = 60;

/// Runs `check`; the exit code is the most serious of its inputs' (see [`statuses::worst`]).
pub fn run(ctx: &Context, registry: &Registry, plan: &CheckPlan) -> Result<u8> {
    let inputs = lock::read(&plan.lock)?.ok_or_else(|| no_lock(&plan.lock))?;
    let fetches: Vec<Fetch> = inputs.iter().map(target::of).collect();
    let seen = seen(ctx, &fetches)?;
    let remembered = Hosts::load(&ctx.layout.hosts)?;
    let credentials: Vec<Credential> = fetches
        .iter()
        .map(|f| credential::for_target(&f.target, &seen))
        .collect();
    let mut asks = Vec::new();
    let mut judged: Vec<Option<Judged>> = Vec::new();
    for (fetch, credential) in fetches.iter().zip(&credentials) {
        let (ask, known) = match plan.offline {
            true => (None, None),
            false => questions::ask_for(fetch, credential, &seen, registry, &remembered),
        };
        asks.push(ask);
        judged.push(known);
    }
    let (found, sent) = match plan.offline {
        true => (vec![None; asks.len()], Default::default()),
        false => {
            let asked = probe::ask_all(&asks)?;
            (asked.found, asked.sent)
        }
    };
    let owner_keys = seen.nix.as_ref().is_none_or(|n| n.matches_owner_keys());
    let mut rows: Vec<Row> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let (fetch, credential) = (&fetches[i], &credentials[i]);
        let judged = judged[i].clone().unwrap_or_else(|| {
            let facts = facts(&fetch.target, &seen, registry, &remembered, owner_keys);
            verdict::judge(&fetch.target, credential, found[i].as_ref(), &facts)
        });
        rows.push(Row {
            input: input.name.clone(),
            kind: crate::ui::printable(input.kind()),
            url: fetch.url.clone(),
            credential: credential.token.as_ref().map(mask),
            source: credential.source.clone(),
            verdict: judged.verdict,
            reason: String::new(),
            fix: judged.fix,
            own: judged.reason,
            notes: judged.notes,
        });
    }
    rate_limit(ctx, &fetches, &credentials, &found, &mut rows);
    for row in &mut rows {
        row.reason = std::iter::once(&row.own)
            .chain(&row.notes)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ");
    }
    show(ctx, plan, &rows);
    spent(ctx, &sent);
    Ok(statuses::worst(rows.iter().map(|r| r.verdict.exit_code())))
}

/// The sentence for a lock file that is not there.
fn no_lock(lock: &Path) -> Error {
    let dir = lock.parent().unwrap_or(Path::new("."));
    if dir.join("flake.nix").is_file() {
        Error::failed(format!(
            "{} has no flake.lock yet; run `nix flake lock` there once, then `nix-tokens check` again",
            dir.display()
        ))
    } else {
        Error::failed(format!(
            "{} does not exist, and {} holds no flake.nix; give a flake's directory or its flake.lock",
            lock.display(),
            dir.display()
        ))
    }
}

/// What Nix and git will read. `nix --version` and git's configuration are read only when an
/// input needs them.
fn seen(ctx: &Context, fetches: &[Fetch]) -> Result<Seen> {
    let picture = Picture::read(&ctx.layout)?;
    // A token pasted where the host belongs is no credential for any input.
    let mut tokens = Vec::new();
    for t in picture.tokens_used() {
        match pasted::token_shaped(&t.key) {
            true => ctx
                .ui
                .warn(&pasted::fix_sentence(&t.key, &t.file, Some(t.line))),
            false => tokens.push(t.clone()),
        }
    }
    let netrc_path = picture.netrc_path;
    let netrc = picture.netrc.ok().flatten();
    let needs_nix = fetches.iter().any(|f| match &f.target {
        Target::Forge { fetcher, host, .. } => {
            (fetcher == "github" && host != "github.com")
                || tokens
                    .iter()
                    .any(|t| t.key.contains('/') && key_host(&t.key).eq_ignore_ascii_case(host))
        }
        _ => false,
    });
    let needs_git = fetches
        .iter()
        .any(|f| matches!(f.target, Target::Git { .. }));
    let git = match needs_git {
        true => GitConfig::new()
            .list_everywhere()
            .map_err(|e| e.to_string()),
        false => Ok(Vec::new()),
    };
    Ok(Seen {
        tokens,
        netrc,
        netrc_path,
        nix: needs_nix.then(nix_version::installed).flatten(),
        git,
    })
}

fn facts(
    target: &Target,
    seen: &Seen,
    registry: &Registry,
    remembered: &Hosts,
    owner_keys: bool,
) -> Facts {
    let (host, fetcher) = match target {
        Target::Forge { host, fetcher, .. } => (host.as_str(), Some(fetcher)),
        Target::Git { host, .. } => (host.as_str(), None),
        _ => ("", None),
    };
    Facts {
        owner_keys,
        host_has_keys: seen.tokens.iter().any(|t| key_host(&t.key) == host),
        provider: fetcher
            .filter(|_| registry.serving(host, remembered).is_none())
            .cloned(),
    }
}

/// github.com answers 60 API requests an hour without a token: the `github:` inputs there that
/// Nix fetches without one share them, and each one's reason says so (with what GitHub said is
/// left); when there are more of them than are left, each gets `nix-tokens login github.com` as
/// its fix and a warning says so.
fn rate_limit(
    ctx: &Context,
    fetches: &[Fetch],
    credentials: &[Credential],
    found: &[Option<Found>],
    rows: &mut [Row],
) {
    let anonymous: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            matches!(&fetches[i].target, Target::Forge { fetcher, host, .. }
                if fetcher == "github" && host == "github.com")
                && credentials[i].token.is_none()
        })
        .collect();
    if anonymous.is_empty() {
        return;
    }
    let count = anonymous.len() as u64;
    let left = anonymous
        .iter()
        .filter_map(|&i| found[i].as_ref().and_then(|f| f.rate_limit))
        .map(|(left, _)| left)
        .min();
    let budget = left.unwrap_or(ANONYMOUS_LIMIT);
    let note = format!(
        "no token: {count} github: input(s) on github.com share the {ANONYMOUS_LIMIT} API requests an hour GitHub allows without one{}",
        left.map(|l| format!(" ({l} left now)")).unwrap_or_default()
    );
    for &i in &anonymous {
        rows[i].notes.push(note.clone());
        if count > budget && rows[i].fix.is_none() {
            rows[i].fix = Some("nix-tokens login github.com".into());
        }
    }
    if count > budget {
        ctx.ui.warn(&format!(
            "{count} github: inputs on github.com use no token, more than the {budget} anonymous requests GitHub has left this hour: `nix flake update` will stop part way; log in with `nix-tokens login github.com`"
        ));
    }
}

fn show(ctx: &Context, plan: &CheckPlan, rows: &[Row]) {
    if !plan.json {
        annotate(rows);
    }
    if plan.json {
        let json = serde_json::to_string_pretty(rows).expect("check rows always serialize");
        println!("{json}");
        return;
    }
    if rows.is_empty() {
        ctx.ui
            .info(&format!("{} has no inputs.", plan.lock.display()));
        return;
    }
    table::print(rows);
    let count = |verdict| rows.iter().filter(|r| r.verdict == verdict).count();
    ctx.ui.info(&format!(
        "{} input(s): {} ok, {} will fail, {} unreachable, {} not checked.",
        rows.len(),
        count(InputVerdict::Ok),
        count(InputVerdict::Fails),
        count(InputVerdict::Unreachable),
        count(InputVerdict::Skipped)
    ));
}

/// How many requests went to each host: with `-v`, and in a GitHub Actions step summary.
fn spent(ctx: &Context, sent: &std::collections::BTreeMap<String, u64>) {
    if sent.is_empty() {
        return;
    }
    let each: Vec<String> = sent.iter().map(|(h, n)| format!("{h} {n}")).collect();
    let total: u64 = sent.values().sum();
    ctx.ui.detail(&format!(
        "{total} request(s) by host: {}",
        crate::ui::printable(&each.join(", "))
    ));
    let rows: Vec<Vec<String>> = sent
        .iter()
        .map(|(h, n)| vec![crate::ui::printable(h), n.to_string()])
        .collect();
    crate::ops::ci_output::step_summary("nix-tokens check: requests", &["HOST", "REQUESTS"], &rows);
}

/// In GitHub Actions, an error annotation for each input that will fail and a warning for each
/// that could not be reached.
fn annotate(rows: &[Row]) {
    use crate::ops::ci_output::{Level, annotate};
    for row in rows {
        let level = match row.verdict {
            InputVerdict::Fails => Level::Error,
            InputVerdict::Unreachable => Level::Warning,
            _ => continue,
        };
        let fix = row
            .fix
            .as_ref()
            .map(|f| format!("; fix: {f}"))
            .unwrap_or_default();
        annotate(
            level,
            &format!("flake input {}", row.input),
            &format!("{} ({}){fix}", row.reason, row.url),
        );
    }
}
