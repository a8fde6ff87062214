//! git's credential requests, answered from the tokens Nix sees (the longest `host/owner` key that
//! covers the repository, else the host's, else its netrc entry), renewing an expiring OAuth login
//! first; and adding the helper to the user's git configuration, or taking out exactly what was
//! added.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::gitcred::answer::{self, best_key, credential};
use crate::gitcred::gitconfig::{self, GitConfig, Installed, Wanted};
use crate::gitcred::protocol::{Answer, Request};
use crate::nixconf::fsio;
use crate::nixconf::hosts::Hosts;
use crate::nixconf::netrc::{Netrc, NetrcEntry};
use crate::nixconf::oauth::OAuthLogins;
use crate::nixconf::paths::{HOSTS_FILE, Layout};
use crate::nixconf::picture::{Origin, Picture};
use crate::nixconf::tokens::{host_without_port, key_host};
use crate::nixconf::view::SeenToken;
use crate::ops::refresh::{RENEW_WITHIN, due, renew_due};
use crate::providers::{Provider, Registry};
use crate::time::unix_now;

/// The arguments after `git-credential` in the helper git runs (`--config PATH`).
pub type HelperArgs = Vec<String>;

/// The credential for `request`, or `None` to let git ask its next helper. A keyring store's
/// tokens come from the keyring itself: git needs no runtime copy.
pub fn get(ctx: &Context, request: &Request) -> Result<Option<Answer>> {
    answer(ctx, request, true)
}

/// The credential Nix itself would send for `request` (the keyring store's only when Nix sees
/// its runtime copy).
pub fn get_as_nix(ctx: &Context, request: &Request) -> Result<Option<Answer>> {
    answer(ctx, request, false)
}

fn answer(ctx: &Context, request: &Request, from_keyring: bool) -> Result<Option<Answer>> {
    let Some((host, path)) = answer::target(request) else {
        return Ok(None);
    };
    let registry = ctx.registry()?;
    let key_for = |tokens: &[SeenToken]| {
        best_key(
            tokens.iter().map(|t| t.key.as_str()),
            &host,
            path.as_deref(),
        )
        .map(str::to_owned)
    };
    let mut picture = Picture::read(&ctx.layout)?;
    // A keyring store's tokens come from the keyring itself for git (no runtime copy needed).
    let used = |picture: &Picture| {
        let mut tokens = picture.tokens_used().cloned().collect::<Vec<SeenToken>>();
        if from_keyring {
            crate::ops::keyring_store::add_for_git(ctx, &mut tokens, &mut None);
        }
        tokens
    };
    let mut tokens = used(&picture);
    let mut expires_at = None;
    // A login kept in netrc (Gitea, Forgejo) has the host for its key and no access-tokens entry;
    // its expiry is the netrc token's.
    let key = key_for(&tokens).unwrap_or_else(|| host.clone());
    match renew_if_due(ctx, &registry, &key)? {
        Renewed::NoLogin => {}
        Renewed::Valid { at, renewed } => {
            expires_at = at;
            if renewed {
                picture = Picture::read(&ctx.layout)?;
                tokens = used(&picture);
            }
        }
        // A token that has run out is no use to git: let it ask elsewhere.
        Renewed::Expired => return Ok(None),
    }
    let hosts = remembered_hosts(&ctx.layout)?;
    let provider = |host: &str| registry.serving(host, &hosts);
    let account = |host: &str| hosts.get(host).and_then(|h| h.user.clone());
    let mut netrc = picture.netrc.ok().flatten();
    if from_keyring {
        crate::ops::keyring_store::add_for_git(ctx, &mut Vec::new(), &mut netrc);
    }
    let (username, password) = match answering(&tokens, netrc.as_ref(), &host, path.as_deref()) {
        None => return Ok(None),
        Some(Answered::Key(seen)) => {
            let host = key_host(&seen.key);
            credential(
                provider(host).map(Provider::forge),
                &seen.token,
                request.username.as_deref(),
                account(host).as_deref(),
                None,
            )
        }
        Some(Answered::Netrc(entry)) => {
            let name = host_without_port(&host);
            let Some(token) = &entry.password else {
                return Ok(None);
            };
            credential(
                provider(&host).or(provider(name)).map(Provider::forge),
                token,
                request.username.as_deref(),
                account(&host).or(account(name)).as_deref(),
                entry.login.as_deref(),
            )
        }
    };
    Ok(Some(Answer {
        username,
        password,
        expires_at,
    }))
}

/// What nix-tokens remembers about each host: this configuration's facts, then those of the
/// system configuration, whose tokens Nix reads too (root's `--system import`, for root's git
/// under `sudo nixos-rebuild`). A system file this user may not read adds nothing, as its tokens
/// add nothing either.
fn remembered_hosts(layout: &Layout) -> Result<Hosts> {
    let mut hosts = Hosts::load(&layout.hosts)?;
    let system = layout.system_dir.join(HOSTS_FILE);
    if system != layout.hosts
        && let Ok(more) = Hosts::load(&system)
    {
        for (host, info) in more.hosts {
            hosts.hosts.entry(host).or_insert(info);
        }
    }
    Ok(hosts)
}

/// Where the token `get` answers with comes from.
pub enum Answered<'a> {
    /// An access-tokens key.
    Key(&'a SeenToken),
    /// The netrc entry of the host's name (tokens for Gitea, Forgejo and the like, which curl
    /// matches by name alone).
    Netrc(&'a NetrcEntry),
}

/// The token `get` answers with for `host` (lower case, with its port) and `path` (when git names
/// it): the longest key among `tokens` that covers them, else the netrc entry for the host's name
/// that holds a password.
pub fn answering<'a>(
    tokens: &'a [SeenToken],
    netrc: Option<&'a Netrc>,
    host: &str,
    path: Option<&str>,
) -> Option<Answered<'a>> {
    let key = best_key(tokens.iter().map(|t| t.key.as_str()), host, path);
    if let Some(seen) = key.and_then(|k| tokens.iter().find(|t| t.key == k)) {
        return Some(Answered::Key(seen));
    }
    netrc?
        .get(host_without_port(host))
        .filter(|e| e.password.is_some())
        .map(Answered::Netrc)
}

/// What became of the OAuth login of a key before git gets its token.
enum Renewed {
    /// The key has no renewable login.
    NoLogin,
    /// The token is good until `at`; `renewed` when it was renewed just now.
    Valid { at: Option<u64>, renewed: bool },
    /// It expired and could not be renewed.
    Expired,
}

/// Renews `key`'s OAuth login, exactly as `refresh` does, when it has little time left.
fn renew_if_due(ctx: &Context, registry: &Registry, key: &str) -> Result<Renewed> {
    let logins = OAuthLogins::load(&ctx.layout.oauth)?;
    let Some(login) = logins.logins.get(key) else {
        return Ok(Renewed::NoLogin);
    };
    // Renewed with the margin every command renews with, so that a clone or fetch does not
    // outlive its token.
    if !due(login.expires_at, unix_now(), RENEW_WITHIN) {
        return Ok(Renewed::Valid {
            at: Some(login.expires_at),
            renewed: false,
        });
    }
    let wanted = [key.to_owned()];
    for failure in &renew_due(ctx, registry, &wanted, RENEW_WITHIN)?.failed {
        ctx.ui.warn(failure);
    }
    let at = OAuthLogins::load(&ctx.layout.oauth)?
        .logins
        .get(key)
        .map(|l| l.expires_at);
    Ok(match at {
        Some(at) if at <= unix_now() => Renewed::Expired,
        at => Renewed::Valid { at, renewed: true },
    })
}

/// The hosts that have a token Nix sees, each with whether it has owner keys.
fn hosts_with_tokens(ctx: &Context) -> Result<Vec<(String, bool)>> {
    let mut hosts: Vec<(String, bool)> = Vec::new();
    let mut add = |host: &str, owner: bool| match hosts.iter_mut().find(|(h, _)| h == host) {
        Some((_, o)) => *o |= owner,
        None => hosts.push((host.to_owned(), owner)),
    };
    // A token pasted where the host belongs is never put in git's configuration.
    for credential in Picture::read(&ctx.layout)?.credentials() {
        match credential.pasted {
            true => ctx.ui.warn(&credential.fix_sentence()),
            false => add(
                key_host(&credential.key),
                credential.origin == Origin::AccessTokens && credential.key.contains('/'),
            ),
        }
    }
    // netrc names no port: a renewable login kept there names the host with its port, which git
    // matches its helpers by.
    for (key, login) in OAuthLogins::load(&ctx.layout.oauth)?.logins {
        if login.netrc_login.is_some() {
            add(key_host(&key), false);
        }
    }
    Ok(hosts)
}

/// Adds the helper to the global git configuration for every host that has a token (`only`
/// some of them, when given).
pub fn install(ctx: &Context, only: &[String], helper_args: &HelperArgs) -> Result<()> {
    let registry = ctx.registry()?;
    let mut hosts = hosts_with_tokens(ctx)?;
    if !only.is_empty() {
        let wanted: Vec<String> = only
            .iter()
            .map(|h| registry.resolve_target(h, None).map(|(k, _)| k))
            .collect::<Result<_>>()?;
        if let Some(w) = wanted
            .iter()
            .find(|w| !hosts.iter().any(|(h, _)| h == key_host(w)))
        {
            return Err(Error::usage(format!(
                "Nix has no token for {w}; log in first with `nix-tokens login {w}`"
            )));
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
    let helper = gitconfig::helper_value(&exe, gitconfig::on_path(&exe), helper_args);
    let remembered = Hosts::load(&ctx.layout.hosts)?;
    let wanted: Vec<Wanted> = hosts
        .iter()
        .map(|(host, owners)| Wanted {
            url: format!("{}://{host}", scheme_for(ctx, &remembered, host)),
            helper: helper.clone(),
            use_http_path: *owners,
        })
        .collect();
    let record_path = ctx.layout.git_record();
    let lock = fsio::lock(&ctx.layout.lock)?;
    let mut record = Installed::load(&record_path)?;
    let result = gitconfig::install(&GitConfig::new(), &wanted, &mut record);
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
    Ok(())
}

/// The scheme git is told to ask the helper for `host` with: `http` for a forge remembered at a
/// plain http base URL on a loopback address (the only plain http the helper answers), else
/// `https`, with a warning when the remembered base URL is plain http on the network.
fn scheme_for(ctx: &Context, remembered: &Hosts, host: &str) -> &'static str {
    // A host kept in netrc is remembered by its name alone.
    let base = remembered
        .get(host)
        .or_else(|| remembered.get(host_without_port(host)))
        .and_then(|h| h.base_url.as_deref());
    match base {
        Some(b) if b.starts_with("http://") && crate::http::is_loopback(host) => "http",
        Some(b) if b.starts_with("http://") => {
            ctx.ui.warn(&format!(
                "{host} is remembered at {b}, plain http, for which nix-tokens never hands git a token (it would cross the network unencrypted); git asks nix-tokens for https://{host} only"
            ));
            "https"
        }
        _ => "https",
    }
}

/// Removes exactly what [`install`] added.
pub fn uninstall(ctx: &Context) -> Result<()> {
    let record_path = ctx.layout.git_record();
    let lock = fsio::lock(&ctx.layout.lock)?;
    let record = Installed::load(&record_path)?;
    if record.entries.is_empty() && record.sections.is_empty() {
        ctx.ui
            .info("nix-tokens added nothing to your git configuration; nothing changed.");
        return Ok(());
    }
    gitconfig::uninstall(&GitConfig::new(), &record)?;
    Installed::default().save(&lock, &record_path)?;
    ctx.ui.info(&format!(
        "Removed the {} git setting(s) nix-tokens had added.",
        record.entries.len()
    ));
    Ok(())
}
