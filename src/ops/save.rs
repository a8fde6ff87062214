//! Storing a token once a command has it, shared by `set-token` and `login`: which key, file and
//! format it gets, the question before replacing another token, the locked write, and what the
//! change did to the tokens Nix uses.

use std::path::PathBuf;

use super::carry;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::nixconf::hosts::{HostInfo, PixiLink};
use crate::nixconf::install::{Destination, Install};
use crate::nixconf::nix_version;
use crate::nixconf::oauth::OAuthLogin;
use crate::nixconf::store::Session;
use crate::nixconf::tokens::{check_login, check_token, host_without_port, key_host};
use crate::nixconf::vault::StoreKind;
use crate::providers::cache_use::CacheUse;
use crate::providers::forge::Origin;
use crate::providers::{Provider, Registry, Sink};
use crate::secret::{Secret, mask};

/// Where a token will go, decided before it is read so that bad arguments fail first.
pub struct Target<'r> {
    /// The key Nix matches (`github.com`, `github.com/my-org`).
    pub key: String,
    /// The host (without a port for netrc, which curl matches by name alone).
    pub host: String,
    pub provider: Option<&'r Provider>,
    pub sink: Sink,
    /// The netrc login written beside the token.
    pub login: String,
}

impl<'r> Target<'r> {
    /// Reads `PROVIDER|HOST`, `--provider`, `--netrc` and `--login`.
    pub fn resolve(
        registry: &'r Registry,
        target: &str,
        provider_flag: Option<&str>,
        netrc: bool,
        login_flag: Option<&str>,
    ) -> Result<Self> {
        let (key, provider) = registry.resolve_target(target, provider_flag)?;
        let sink = match (netrc, provider) {
            (true, _) => Sink::Netrc,
            (false, Some(p)) => p.sink,
            (false, None) => Sink::AccessTokens,
        };
        let host = match sink {
            Sink::Netrc => host_without_port(key_host(&key)).to_owned(),
            Sink::AccessTokens => key_host(&key).to_owned(),
        };
        let login = login_flag
            .or(provider.map(|p| p.netrc_login.as_str()))
            .unwrap_or("nix-tokens")
            .to_owned();
        // A provider may write no login (curl then sends an empty user); `--login` names one.
        if login_flag.is_some() || !login.is_empty() {
            check_login(&login)?;
        }
        if sink == Sink::Netrc && key.contains('/') {
            return Err(Error::usage(format!(
                "netrc holds one token per host, so `{key}` cannot go there; give the host alone ({host})"
            )));
        }
        Ok(Target {
            key,
            host,
            provider,
            sink,
            login,
        })
    }

    /// Checks a token as read and puts it in the format Nix expects here: GitLab's `PAT:` for
    /// access-tokens; netrc holds the bare token for basic auth.
    pub fn prepare(&self, token: Secret<String>) -> Result<Secret<String>> {
        check_token(&token, &self.key)?;
        Ok(match (self.provider, self.sink) {
            (Some(p), Sink::AccessTokens) => p.forge().access_token(token, Origin::Personal),
            _ => token,
        })
    }
}

/// Refuses to put a binary cache's token where the process that downloads from the cache never
/// reads it: on a multi-user install the nix-daemon reads the user's own netrc only for a user it
/// trusts (and Nix 2.34.0 not even then), so for anyone else such a token needs `--system` (as
/// root). `again` is the command to run instead, without `nix-tokens`.
pub fn check_cache_destination(
    target: &Target,
    install: &Install,
    system: bool,
    again: &str,
) -> Result<()> {
    let Some(provider) = target.provider.filter(|p| p.forge().serves_substitutes()) else {
        return Ok(());
    };
    let Destination::SystemNetrc { netrc, why } = install.destination(Sink::Netrc, true, system)
    else {
        return Ok(());
    };
    Err(Error::usage(format!(
        "on this machine the nix-daemon downloads from binary caches, and it reads only {}; run the command as root with --system: `sudo nix-tokens --system {again}` (on NixOS: `programs.nix-tokens.cacheTokens.\"{}\" = {{ file = …; provider = \"{}\"; }};`). Why: {why}. The daemon also ignores the substituters of a user it does not trust, unless the system configuration lists them in `trusted-substituters`: `--system` puts the cache's substituter and key in the system configuration.",
        netrc.display(),
        target.host,
        provider.name
    )))
}

/// What [`save`] did.
pub enum Saved {
    /// The token was written to this file.
    Written(PathBuf),
    /// The file already held this very token.
    Unchanged(PathBuf),
    /// `--dry-run`: the report said what would change.
    DryRun,
    /// The person declined to replace the token already there.
    Declined,
}

/// How [`save`] goes about it.
#[derive(Default)]
pub struct SaveOptions<'a> {
    /// Replace another token without asking.
    pub force: bool,
    pub dry_run: bool,
    /// The base URL the host was reached at, to remember with its provider.
    pub base_url: Option<&'a str>,
    /// How to renew the token, for an OAuth login that can be renewed.
    pub oauth: Option<OAuthLogin>,
    /// Who the provider said the token belongs to.
    pub user: Option<String>,
    /// The entry to write for the host in pixi's credential store.
    pub pixi: Option<PixiWrite>,
    /// A binary cache's substituter and keys, for Nix to use the cache the token is for.
    pub cache_use: Option<CacheUse>,
    /// `--store`: files or the OS keyring (default: the store the configuration remembers).
    pub store: Option<StoreKind>,
}

/// An entry of pixi's credential store, and where it goes.
pub struct PixiWrite {
    pub link: PixiLink,
    pub entry: serde_json::Value,
}

/// Stores `token` for `target` under the lock. Replacing a different token asks first, unless
/// `force`; afterwards, anything the change did to the tokens Nix uses that was not asked for is
/// reported.
///
/// The question is asked without the lock, so that no other run (the refresh timer, git's
/// helper) waits for the person: the files are read under the lock, the lock is let go while the
/// question waits, and taken again to read them afresh. The answer holds only for the token it
/// named: when another has taken its place meanwhile, the question is asked again.
pub fn save(
    ctx: &Context,
    target: &Target,
    token: Secret<String>,
    options: SaveOptions,
) -> Result<Saved> {
    if super::keyring_store::chosen(ctx, options.store)? == StoreKind::Keyring {
        return super::keyring_store::save(ctx, target, token, options);
    }
    let before = ctx.nix_tokens_now();
    let mut agreed: Option<Secret<String>> = None;
    let (mut session, unchanged, file) = loop {
        let session = Session::open(&ctx.layout)?;
        let (existing, file) = existing_token(ctx, &session, target);
        let unchanged = existing.as_ref() == Some(&token);
        match existing.filter(|_| !(unchanged || options.force || options.dry_run)) {
            Some(old) if agreed.as_ref() != Some(&old) => {
                drop(session);
                if !confirm_replace(ctx, &target.key, &old, &token, &file)? {
                    ctx.ui.info("Nothing changed.");
                    return Ok(Saved::Declined);
                }
                agreed = Some(old);
            }
            _ => break (session, unchanged, file),
        }
    };
    let dry_run = options.dry_run;
    let carried = match dry_run {
        true => Vec::new(),
        false => carry::offer(ctx, &session, target.sink, &target.host)?,
    };
    let check = (target.sink == Sink::AccessTokens).then(|| token.clone());
    let useless = stage(&mut session, target, token, options)?;
    for (host, login, password) in &carried {
        session.set_netrc(host, login, password)?;
    }
    let report = session.commit(dry_run)?;
    ctx.show_report(&report, dry_run);
    if dry_run {
        return Ok(Saved::DryRun);
    }
    let key = &target.key;
    let removed = if useless {
        vec![key.clone()]
    } else {
        Vec::new()
    };
    ctx.warn_surprises(&before, check.as_ref().map(|t| (key.as_str(), t)), &removed);
    if target.sink == Sink::AccessTokens
        && key.contains('/')
        && let Some(warning) = nix_version::stored_owner_key_warning(key)
    {
        ctx.ui.warn(&warning);
    }
    if !carried.is_empty() {
        let hosts: Vec<&str> = carried.iter().map(|(h, _, _)| h.as_str()).collect();
        ctx.ui.info(&format!(
            "Copied the credentials for {} into {}.",
            hosts.join(", "),
            file.display()
        ));
    }
    if useless {
        ctx.ui.info(&format!(
            "Removed the token for {key} from {}, where Nix never reads it.",
            ctx.layout.token_file.display()
        ));
    }
    Ok(if unchanged {
        Saved::Unchanged(file)
    } else {
        Saved::Written(file)
    })
}

/// The token `target` has now, and the file it is (or will be) in.
fn existing_token(
    ctx: &Context,
    session: &Session,
    target: &Target,
) -> (Option<Secret<String>>, PathBuf) {
    match target.sink {
        Sink::AccessTokens => (
            session
                .tokens()
                .get(&target.key)
                .cloned()
                .or_else(|| session.nix_conf_tokens().get(&target.key).cloned()),
            ctx.layout.token_file.clone(),
        ),
        Sink::Netrc => (
            session
                .netrc()
                .get(&target.host)
                .and_then(|e| e.password.clone()),
            session.netrc_path().to_path_buf(),
        ),
    }
}

/// Asks before `old` in `file` is replaced by `new` (an error saying to pass `--force` when no one
/// can be asked).
fn confirm_replace(
    ctx: &Context,
    key: &str,
    old: &Secret<String>,
    new: &Secret<String>,
    file: &std::path::Path,
) -> Result<bool> {
    let question = format!(
        "{key} already has a token ({}) in {}. Replace it with {}?",
        mask(old),
        file.display(),
        mask(new)
    );
    let refusal = || {
        format!(
            "{key} already has a token ({}) in {}; pass --force to replace it",
            mask(old),
            file.display()
        )
    };
    ctx.ui.confirm(&question, refusal)
}

/// Stages the token and what goes with it (the host's facts, pixi's entry, the OAuth login) in
/// `session`. Returns whether a token nix-auth left in access-tokens, where Nix never reads it for
/// this provider, was taken out.
fn stage(
    session: &mut Session,
    target: &Target,
    token: Secret<String>,
    options: SaveOptions,
) -> Result<bool> {
    let SaveOptions {
        base_url,
        oauth,
        user,
        pixi,
        cache_use,
        ..
    } = options;
    // One token may serve several hosts (FlakeHub's), each with its netrc entry.
    let hosts = match (target.sink, target.provider) {
        (Sink::Netrc, Some(p)) => p.netrc_hosts(&target.host),
        _ => vec![target.host.clone()],
    };
    if let Some(provider) = target.provider {
        for host in &hosts {
            // What an earlier login added to make Nix use the host's cache stays recorded.
            let earlier = session.host_info(host).cloned().unwrap_or_default();
            session.remember_host(
                host,
                HostInfo {
                    provider: provider.name.clone(),
                    base_url: base_url.map(str::to_owned),
                    user: user.clone(),
                    pixi: pixi.as_ref().map(|p| p.link.clone()),
                    substituter: earlier.substituter,
                    public_keys: earlier.public_keys,
                },
            );
        }
    }
    if let Some(cache) = &cache_use {
        session.use_cache(&target.host, cache);
    }
    if let Some(pixi) = pixi {
        session.set_pixi(&pixi.link.file, &pixi.link.key, Some(pixi.entry))?;
    }
    match target.sink {
        Sink::AccessTokens => {
            session.set_access_token(&target.key, token)?;
        }
        Sink::Netrc => {
            for host in &hosts {
                session.set_netrc(host, &target.login, &token)?;
            }
        }
    }
    session.set_oauth_login(&target.key, oauth);
    // Nix never reads a token for a Gitea or Forgejo host from access-tokens (nix-auth put them
    // there): it goes, now that the token is where Nix reads it.
    Ok(target.provider.is_some_and(|p| p.sink == Sink::Netrc)
        && session.remove_access_token(&target.key).is_some())
}
