//! The keyring store: a token kept only in the OS keyring, and the runtime copies Nix reads in
//! the session's private tmpfs (see [`crate::nixconf::vault`] and [`crate::nixconf::runtime`]):
//! storing a token, the state file, the copies, `lock` and `unlock`. [`moves`] moves a
//! configuration's tokens in and out; [`uses`] serves git's helper, `logout` and `refresh`.

mod moves;
mod uses;

use std::path::PathBuf;

pub use moves::set_store;
pub use uses::{add_for_git, held_tokens, logout, store_renewed};

use super::save::{SaveOptions, Saved, Target};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::nixconf::fsio;
use crate::nixconf::hosts::HostInfo;
use crate::nixconf::runtime::{self, RuntimeDir};
use crate::nixconf::store::Session;
use crate::nixconf::vault::{self, NetrcLogin, StoreKind, StoreState, Vault};
use crate::providers::Sink;
use crate::secret::{Secret, mask};

/// The store a command writes to: the flag, else the one the configuration remembers. `--system`
/// refuses the keyring (root's rebuilds read files: sops-nix or agenix `tokenFiles`).
pub fn chosen(ctx: &Context, flag: Option<StoreKind>) -> Result<StoreKind> {
    let kind = match flag {
        Some(kind) => kind,
        None if ctx.layout.system => StoreKind::File,
        None => vault::read_state(&ctx.layout)?.store,
    };
    if kind == StoreKind::Keyring && ctx.layout.system {
        return Err(Error::usage(
            "--system keeps tokens in files, as the nix-daemon and root's rebuilds read them without a keyring; drop --store keyring (on NixOS, give root's tokens with sops-nix or agenix through programs.nix-tokens.tokenFiles)",
        ));
    }
    Ok(kind)
}

/// Stores `token` for `target` in the keyring and writes the runtime copies; nothing is written
/// when the runtime directory is not private or no keyring answers.
pub fn save(
    ctx: &Context,
    target: &Target,
    token: Secret<String>,
    options: SaveOptions,
) -> Result<Saved> {
    let runtime = RuntimeDir::find()?;
    let mut vault = Vault::load(&ctx.layout)?;
    let hosts = match (target.sink, target.provider) {
        (Sink::Netrc, Some(p)) => p.netrc_hosts(&target.host),
        _ => vec![target.host.clone()],
    };
    let old = match target.sink {
        Sink::AccessTokens => vault.access_tokens.get(&target.key).cloned(),
        Sink::Netrc => vault.netrc.get(&target.host).map(|n| n.token.clone()),
    };
    let unchanged = old.as_ref() == Some(&token);
    let place = PathBuf::from(format!("the OS keyring ({})", ctx.layout.dir().display()));
    if let Some(old) = old.filter(|_| !(unchanged || options.force || options.dry_run)) {
        let question = format!(
            "{} already has a token ({}) in the OS keyring. Replace it with {}?",
            target.key,
            mask(&old),
            mask(&token)
        );
        let refusal = || {
            format!(
                "{} already has a token ({}) in the OS keyring; pass --force to replace it",
                target.key,
                mask(&old)
            )
        };
        if !ctx.ui.confirm(&question, refusal)? {
            ctx.ui.info("Nothing changed.");
            return Ok(Saved::Declined);
        }
    }
    if options.dry_run {
        ctx.ui.info(&format!(
            "Would keep the token for {} in the OS keyring, and its copy for Nix in {}.",
            target.key,
            runtime.dir.display()
        ));
        return Ok(Saved::DryRun);
    }
    let mut session = Session::open(&ctx.layout)?;
    let mut state = vault::read_state(&ctx.layout)?;
    if state.user_netrc.is_none() && !session.netrc_path().starts_with(&runtime.dir) {
        state.user_netrc = Some(session.netrc_path().to_path_buf());
    }
    match target.sink {
        Sink::AccessTokens => {
            vault.access_tokens.insert(&target.key, token);
            session.remove_access_token(&target.key);
        }
        Sink::Netrc => {
            for host in &hosts {
                let login = NetrcLogin {
                    login: target.login.clone(),
                    token: token.clone(),
                };
                vault.netrc.insert(host.clone(), login);
                session.remove_netrc_entry(host, &runtime.dir);
            }
        }
    }
    if let Some(provider) = target.provider {
        for host in &hosts {
            let earlier = session.host_info(host).cloned().unwrap_or_default();
            session.remember_host(
                host,
                HostInfo {
                    provider: provider.name.clone(),
                    base_url: options.base_url.map(str::to_owned),
                    user: options.user.clone(),
                    pixi: None,
                    substituter: earlier.substituter,
                    public_keys: earlier.public_keys,
                },
            );
        }
    }
    if let Some(cache) = &options.cache_use {
        session.use_cache(&target.host, cache);
    }
    // A renewable login is renewed in the keyring (its refresh token goes where refresh tokens go).
    session.set_oauth_login(&target.key, options.oauth);
    session.held_in_keyring(vault.keys());
    session.ensure_runtime_include(&runtime.access_tokens())?;
    // The keyring first: should it refuse, nothing else has changed.
    vault.save(&ctx.layout)?;
    let report = session.commit(false)?;
    ctx.show_report(&report, false);
    state.store = StoreKind::Keyring;
    state.keys = vault.keys();
    write_state(ctx, &state)?;
    write_copies(&runtime, &vault, &state)?;
    Ok(if unchanged {
        Saved::Unchanged(place)
    } else {
        Saved::Written(place)
    })
}

/// Writes the state file under the lock.
pub fn write_state(ctx: &Context, state: &StoreState) -> Result<()> {
    let guard = fsio::lock(&ctx.layout.lock)?;
    let text = serde_json::to_string_pretty(state).expect("the state serialises") + "\n";
    fsio::write_atomic(
        &guard,
        &vault::state_path(&ctx.layout),
        text.as_bytes(),
        0o600,
    )
}

/// Writes the runtime copies of `vault` (0600, atomically): the conf Nix includes and, when the
/// keyring holds netrc entries, the netrc with the user's own entries carried over.
pub fn write_copies(runtime: &RuntimeDir, vault: &Vault, state: &StoreState) -> Result<()> {
    if !vault.netrc.is_empty() {
        let user = match &state.user_netrc {
            Some(path) if !path.starts_with(&runtime.dir) => fsio::read_optional(path)?,
            _ => None,
        };
        let netrc = vault.render_netrc(user.as_deref());
        runtime.write(runtime::NETRC, netrc.expose().as_bytes())?;
    } else {
        runtime.remove(runtime::NETRC)?;
    }
    let conf = vault.render_conf(&runtime.netrc());
    runtime.write(runtime::ACCESS_TOKENS, conf.expose().as_bytes())
}

/// `nix-tokens unlock`: writes the runtime copies from the keyring (again), and lets every
/// command write them from now on.
pub fn unlock(ctx: &Context) -> Result<()> {
    let mut state = vault::read_state(&ctx.layout)?;
    if state.store != StoreKind::Keyring {
        return Err(Error::usage(format!(
            "{} keeps its tokens in files, so there is nothing to unlock; `nix-tokens store keyring` moves it to the keyring",
            ctx.layout.nix_conf.display()
        )));
    }
    let runtime = RuntimeDir::find()?;
    let vault = Vault::load(&ctx.layout)?;
    state.locked = false;
    write_state(ctx, &state)?;
    write_copies(&runtime, &vault, &state)?;
    ctx.ui.info(&format!(
        "Nix sees the keyring's tokens again, through {}.",
        runtime.access_tokens().display()
    ));
    Ok(())
}

/// `nix-tokens lock`: removes the runtime copies; until `unlock`, no command writes them.
pub fn lock(ctx: &Context) -> Result<()> {
    let mut state = vault::read_state(&ctx.layout)?;
    if state.store != StoreKind::Keyring {
        return Err(Error::usage(format!(
            "{} keeps its tokens in files, so there is nothing to lock; `nix-tokens store keyring` moves it to the keyring",
            ctx.layout.nix_conf.display()
        )));
    }
    state.locked = true;
    write_state(ctx, &state)?;
    if let Ok(runtime) = RuntimeDir::find() {
        runtime.remove(runtime::ACCESS_TOKENS)?;
        runtime.remove(runtime::NETRC)?;
    }
    ctx.ui
        .info("Locked: Nix sees none of the keyring's tokens until `nix-tokens unlock`.");
    Ok(())
}

/// Before a command: writes the runtime copies again when they are missing, the store is the
/// keyring, not locked, and the keyring answers. Best effort: anything else leaves them missing,
/// which `status` reports.
pub fn revive(ctx: &Context) {
    let Ok(state) = vault::read_state(&ctx.layout) else {
        return;
    };
    if state.store != StoreKind::Keyring || state.locked || ctx.layout.system {
        return;
    }
    let Ok(runtime) = RuntimeDir::find() else {
        return;
    };
    if runtime.access_tokens().exists() {
        return;
    }
    if let Ok(vault) = Vault::load(&ctx.layout)
        && write_copies(&runtime, &vault, &state).is_ok()
    {
        ctx.ui
            .detail("wrote the keyring store's runtime copies again");
    }
}

/// What `status` says about a keyring store (nothing for the file store).
pub fn describe(ctx: &Context) -> Option<String> {
    let state = vault::read_state(&ctx.layout).ok()?;
    if state.store != StoreKind::Keyring {
        return None;
    }
    let runtime = RuntimeDir::find();
    let present = runtime.as_ref().is_ok_and(|r| r.access_tokens().exists());
    Some(match (state.locked, present, runtime) {
        (true, _, _) => "Store: the OS keyring, locked: Nix sees none of its tokens now; run `nix-tokens unlock`.".to_owned(),
        (false, true, Ok(r)) => format!(
            "Store: the OS keyring; Nix sees its tokens now, through {}.",
            r.access_tokens().display()
        ),
        (false, _, Err(_)) => "Store: the OS keyring; Nix sees none of its tokens now: there is no private runtime directory ($XDG_RUNTIME_DIR must be a tmpfs of yours with mode 0700), as systemd-logind makes it for a login session.".to_owned(),
        (false, _, Ok(_)) => "Store: the OS keyring; Nix sees none of its tokens now (the keyring did not answer); run `nix-tokens unlock`.".to_owned(),
    })
}
