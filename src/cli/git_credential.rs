//! `nix-tokens git-credential get|store|erase`: a git credential helper, so that `git+https`
//! inputs (which go through git, not `access-tokens`) get the same tokens; and `--install` /
//! `--uninstall`, which add it to and remove it from the user's git configuration.
//!
//! `get` answers with the token Nix sees for the host (the longest `host/owner` key that covers
//! the repository, else the host's, else its netrc entry), renewing an expiring OAuth login first.
//! Standard output carries only the protocol answer, and nothing at all when there is no token, so
//! that git asks its next helper. `store` and `erase` save and delete nothing.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Args;

use super::refresh::renew_due;
use super::{Context, GlobalArgs};
use crate::error::{Error, Result, exit};
use crate::gitcred::answer::{self, best_key, credential};
use crate::gitcred::gitconfig::{self, GitConfig, Installed, Wanted};
use crate::gitcred::protocol::{self, Answer, MAX_INPUT};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::netrc::Netrc;
use crate::nixconf::oauth::OAuthLogins;
use crate::nixconf::tokens::{host_without_port, key_host};
use crate::nixconf::{fsio, view};
use crate::providers::Registry;
use crate::time::unix_now;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct GitCredentialArgs {
    /// What git asks for: get, store or erase (git runs this; any other is ignored)
    #[arg(required_unless_present_any = ["install", "uninstall"])]
    pub operation: Option<String>,
    /// Add this helper to your global git configuration for every host that has a token
    #[arg(long, conflicts_with_all = ["operation", "uninstall"])]
    pub install: bool,
    /// Remove exactly what --install added
    #[arg(long, conflicts_with = "operation")]
    pub uninstall: bool,
    /// With --install: only this host (repeatable; default every host that has a token)
    #[arg(long = "host", value_name = "HOST", requires = "install")]
    pub hosts: Vec<String>,
}

/// `get` renews an OAuth login with less than this many seconds left, so that a clone or fetch
/// does not outlive its token.
const REFRESH_WITHIN: u64 = 10 * 60;

/// The record of what `--install` added, beside nix.conf.
const RECORD_FILE: &str = ".nix-tokens-git.json";

pub fn run(ctx: &Context, args: GitCredentialArgs, global: &GlobalArgs) -> Result<ExitCode> {
    if args.install {
        return install(ctx, &args.hosts, global);
    }
    if args.uninstall {
        return uninstall(ctx);
    }
    let input = read_input()?;
    // git hands over what it used (`store`) or what the server refused (`erase`), and may ask
    // operations added later: nix-tokens keeps only the tokens given to login and set-token, so
    // all of those are read and dropped.
    if args.operation.as_deref() != Some("get") {
        return Ok(ExitCode::from(exit::OK));
    }
    // Only warnings reach git's terminal: no notes, no questions.
    let quiet = Context {
        ui: Ui {
            verbosity: ctx.ui.verbosity.min(-1),
            progress: false,
            interactive: false,
            ..ctx.ui.clone()
        },
        layout: ctx.layout.clone(),
    };
    let request = protocol::parse(&input)?;
    if let Some(answer) = get(&quiet, &request)? {
        let Some(text) = protocol::render(&answer) else {
            quiet.ui.warn(&format!(
                "the stored token for {} holds a line break, which git's protocol cannot carry; store it again with `nix-tokens set-token`",
                crate::ui::printable(request.host.as_deref().unwrap_or("this host"))
            ));
            return Ok(ExitCode::from(exit::OK));
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.expose().as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::failed(format!("could not answer git: {e}")))?;
    }
    Ok(ExitCode::from(exit::OK))
}

/// Standard input, up to just past the protocol's limit.
fn read_input() -> Result<Vec<u8>> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| Error::failed(format!("could not read git's request: {e}")))?;
    Ok(input)
}

/// The credential for `request`, or `None` to let git ask its next helper.
fn get(ctx: &Context, request: &protocol::Request) -> Result<Option<Answer>> {
    let Some((host, path)) = answer::target(request) else {
        return Ok(None);
    };
    let registry = ctx.registry()?;
    let files = ctx.layout.nix_read_order();
    let key_for = |tokens: &[view::SeenToken]| {
        best_key(
            tokens.iter().map(|t| t.key.as_str()),
            &host,
            path.as_deref(),
        )
        .map(str::to_owned)
    };
    let mut tokens = view::effective_tokens(&files)?;
    let mut expires_at = None;
    if let Some(key) = key_for(&tokens) {
        let logins = OAuthLogins::load(&ctx.layout.oauth)?;
        if let Some(login) = logins.logins.get(&key) {
            expires_at = Some(login.expires_at);
            if login.expires_at <= unix_now().saturating_add(REFRESH_WITHIN) {
                let renewal =
                    renew_due(ctx, &registry, std::slice::from_ref(&key), REFRESH_WITHIN)?;
                for failure in &renewal.failed {
                    ctx.ui.warn(failure);
                }
                tokens = view::effective_tokens(&files)?;
                let renewed = OAuthLogins::load(&ctx.layout.oauth)?;
                expires_at = renewed.logins.get(&key).map(|l| l.expires_at);
                // A token that has run out is no use to git: let it ask elsewhere.
                if expires_at.is_some_and(|at| at <= unix_now()) {
                    return Ok(None);
                }
            }
        }
    }
    let hosts = Hosts::load(&ctx.layout.hosts)?;
    let kind_of = |host: &str| {
        hosts
            .get(host)
            .and_then(|h| registry.by_name(&h.provider))
            .or_else(|| registry.by_host(host))
            .map(|p| p.kind)
    };
    let account = |host: &str| hosts.get(host).and_then(|h| h.user.clone());
    if let Some(key) = key_for(&tokens)
        && let Some(seen) = tokens.iter().find(|t| t.key == key)
    {
        let host = key_host(&key);
        let (username, password) = credential(
            kind_of(host),
            &seen.token,
            request.username.as_deref(),
            account(host).as_deref(),
            None,
        );
        return Ok(Some(Answer {
            username,
            password,
            expires_at,
        }));
    }
    // Tokens for Gitea, Forgejo and the like are in netrc, which curl matches by name alone.
    let settings = view::settings_in_order(&files)?;
    let netrc_path = view::netrc_file(&settings, &ctx.layout.system_dir);
    let Some(text) = fsio::read_optional(&netrc_path).ok().flatten() else {
        return Ok(None);
    };
    let netrc = Netrc::parse(&text);
    let name = host_without_port(&host);
    let Some(entry) = netrc.get(name) else {
        return Ok(None);
    };
    let Some(token) = &entry.password else {
        return Ok(None);
    };
    let (username, password) = credential(
        kind_of(&host).or(kind_of(name)),
        token,
        request.username.as_deref(),
        account(&host).or(account(name)).as_deref(),
        entry.login.as_deref(),
    );
    Ok(Some(Answer {
        username,
        password,
        expires_at: None,
    }))
}

/// The hosts that have a token Nix sees, each with whether it has owner keys.
fn hosts_with_tokens(ctx: &Context) -> Result<Vec<(String, bool)>> {
    let files = ctx.layout.nix_read_order();
    let settings = view::settings_in_order(&files)?;
    let mut hosts: Vec<(String, bool)> = Vec::new();
    let mut add = |host: &str, owner: bool| match hosts.iter_mut().find(|(h, _)| h == host) {
        Some((_, o)) => *o |= owner,
        None => hosts.push((host.to_owned(), owner)),
    };
    for seen in view::effective_tokens(&files)? {
        add(key_host(&seen.key), seen.key.contains('/'));
    }
    let netrc_path = view::netrc_file(&settings, &ctx.layout.system_dir);
    if let Ok(Some(text)) = fsio::read_optional(&netrc_path) {
        for entry in Netrc::parse(&text).entries() {
            if let (Some(machine), Some(_)) = (&entry.machine, &entry.password) {
                add(machine, false);
            }
        }
    }
    Ok(hosts)
}

fn install(ctx: &Context, only: &[String], global: &GlobalArgs) -> Result<ExitCode> {
    let registry: Registry = ctx.registry()?;
    let mut hosts = hosts_with_tokens(ctx)?;
    if !only.is_empty() {
        let wanted: Vec<String> = only
            .iter()
            .map(|h| registry.resolve_target(h, None).map(|(k, _)| k))
            .collect::<Result<_>>()?;
        for w in &wanted {
            if !hosts.iter().any(|(h, _)| h == key_host(w)) {
                return Err(Error::usage(format!(
                    "Nix has no token for {w}; log in first with `nix-tokens login {w}`"
                )));
            }
        }
        hosts.retain(|(h, _)| wanted.iter().any(|w| key_host(w) == h));
    }
    if hosts.is_empty() {
        return Err(Error::usage(
            "Nix has no tokens yet, so there is nothing for git to ask; log in first with `nix-tokens login`",
        ));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::failed(format!("could not tell where nix-tokens is installed: {e}")))?;
    let mut extra = Vec::new();
    if global.system {
        extra.push("--system".to_owned());
    } else if global.config.is_some() {
        extra.push("--config".to_owned());
        extra.push(ctx.layout.nix_conf.display().to_string());
    }
    let helper = gitconfig::helper_value(&exe, gitconfig::on_path(&exe), &extra);
    let remembered = Hosts::load(&ctx.layout.hosts)?;
    let wanted: Vec<Wanted> = hosts
        .iter()
        .map(|(host, owners)| {
            // A forge reached over plain http (a loopback address only) is asked that way.
            let http = remembered
                .get(host)
                .and_then(|h| h.base_url.as_deref())
                .is_some_and(|b| b.starts_with("http://"));
            Wanted {
                url: format!("{}://{host}", if http { "http" } else { "https" }),
                helper: helper.clone(),
                use_http_path: *owners,
            }
        })
        .collect();
    let record_path = ctx.layout.dir().join(RECORD_FILE);
    let lock = fsio::lock(&ctx.layout.lock)?;
    let mut record = Installed::load(&record_path)?;
    let git = GitConfig::new();
    let result = gitconfig::install(&git, &wanted, &mut record);
    // What was added is recorded even when a later addition failed, so --uninstall finds it.
    record.save(&lock, &record_path)?;
    let added = result?;
    if added.is_empty() {
        ctx.ui
            .info("git already asks nix-tokens for every host that has a token; nothing changed.");
    } else {
        ctx.ui.info(&format!(
            "git now asks nix-tokens for {}; undo with `nix-tokens git-credential --uninstall`.",
            added.join(", ")
        ));
    }
    Ok(ExitCode::from(exit::OK))
}

fn uninstall(ctx: &Context) -> Result<ExitCode> {
    let record_path = ctx.layout.dir().join(RECORD_FILE);
    let lock = fsio::lock(&ctx.layout.lock)?;
    let record = Installed::load(&record_path)?;
    if record.entries.is_empty() && record.sections.is_empty() {
        ctx.ui
            .info("nix-tokens added nothing to your git configuration; nothing changed.");
        return Ok(ExitCode::from(exit::OK));
    }
    gitconfig::uninstall(&GitConfig::new(), &record)?;
    Installed::default().save(&lock, &record_path)?;
    ctx.ui.info(&format!(
        "Removed the {} git setting(s) nix-tokens had added.",
        record.entries.len()
    ));
    Ok(ExitCode::from(exit::OK))
}
