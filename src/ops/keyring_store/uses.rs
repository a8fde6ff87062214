//! The keyring store for the other commands: git's helper reads the keyring itself, `logout`
//! takes tokens out of it, `refresh` renews them in it.

use std::path::PathBuf;

use super::{write_copies, write_state};
use crate::context::Context;
use crate::error::Result;
use crate::nixconf::runtime::RuntimeDir;
use crate::nixconf::store::Session;
use crate::nixconf::tokens::TokenMap;
use crate::nixconf::vault::{self, NetrcLogin, StoreKind, Vault};
use crate::secret::Secret;

/// For git's helper: the keyring store's tokens, read from the keyring itself (no runtime copy is
/// needed), added to those Nix sees (`tokens`, `netrc`) for keys and hosts they lack.
pub fn add_for_git(
    ctx: &Context,
    tokens: &mut Vec<crate::nixconf::view::SeenToken>,
    netrc: &mut Option<crate::nixconf::netrc::Netrc>,
) {
    let is_keyring = vault::read_state(&ctx.layout).is_ok_and(|s| s.store == StoreKind::Keyring);
    if !is_keyring || ctx.layout.system {
        return;
    }
    let Ok(vault) = Vault::load(&ctx.layout) else {
        return;
    };
    let place = PathBuf::from(format!("the OS keyring ({})", ctx.layout.dir().display()));
    for (key, token) in vault.access_tokens.iter() {
        if !tokens.iter().any(|t| t.key == key) {
            tokens.push(crate::nixconf::view::SeenToken {
                key: key.to_owned(),
                token: token.clone(),
                file: place.clone(),
                line: 0,
                shadowed_by: None,
            });
        }
    }
    if vault.netrc.is_empty() {
        return;
    }
    let mut merged = netrc
        .take()
        .unwrap_or_else(|| crate::nixconf::netrc::Netrc::parse(""));
    for (host, entry) in &vault.netrc {
        if !merged.has_host(host) {
            merged.set(host, &entry.login, &entry.token);
        }
    }
    *netrc = Some(merged);
}

/// `logout`: takes `keys` (every key, when `None`) out of the keyring store and rewrites the
/// runtime copies. Returns the keys it removed (none for the file store).
fn forget(ctx: &Context, keys: Option<&[String]>, dry_run: bool) -> Result<Vec<String>> {
    let mut state = vault::read_state(&ctx.layout)?;
    if state.store != StoreKind::Keyring || ctx.layout.system {
        return Ok(Vec::new());
    }
    let mut vault = Vault::load(&ctx.layout)?;
    let wanted = |k: &str| keys.is_none_or(|keys| keys.iter().any(|w| w == k));
    let mut removed: Vec<String> = vault
        .access_tokens
        .keys()
        .filter(|k| wanted(k))
        .map(str::to_owned)
        .collect();
    removed.extend(vault.netrc.keys().filter(|h| wanted(h)).cloned());
    if removed.is_empty() || dry_run {
        return Ok(removed);
    }
    for key in &removed {
        vault.access_tokens.remove(key);
        vault.netrc.remove(key);
    }
    vault.save(&ctx.layout)?;
    state.keys = vault.keys();
    write_state(ctx, &state)?;
    if !state.locked
        && let Ok(runtime) = RuntimeDir::find()
    {
        write_copies(&runtime, &vault, &state)?;
    }
    Ok(removed)
}

/// `refresh`: puts `key`'s renewed token in the keyring (its netrc entry, with `netrc` the
/// login), and rewrites the runtime copies of an unlocked store.
pub fn store_renewed(
    layout: &crate::nixconf::paths::Layout,
    key: &str,
    netrc: Option<&str>,
    token: Secret<String>,
) -> Result<()> {
    let state = vault::read_state(layout)?;
    let mut vault = Vault::load(layout)?;
    match netrc {
        Some(login) => {
            let host =
                crate::nixconf::tokens::host_without_port(crate::nixconf::tokens::key_host(key));
            let login = login.to_owned();
            vault
                .netrc
                .insert(host.to_owned(), NetrcLogin { login, token });
        }
        None => {
            vault.access_tokens.insert(key, token);
        }
    }
    vault.save(layout)?;
    if !state.locked
        && let Ok(runtime) = RuntimeDir::find()
    {
        write_copies(&runtime, &vault, &state)?;
    }
    Ok(())
}

/// The tokens the keyring store holds for `keys` (every key, when `None`), by key (a netrc
/// entry's by its host), for `logout --revoke`; none for the file store.
pub fn held_tokens(ctx: &Context, keys: Option<&[String]>) -> Result<TokenMap> {
    let mut held = TokenMap::default();
    let state = vault::read_state(&ctx.layout)?;
    if state.store != StoreKind::Keyring || ctx.layout.system {
        return Ok(held);
    }
    let vault = Vault::load(&ctx.layout)?;
    let wanted = |k: &str| keys.is_none_or(|keys| keys.iter().any(|w| w == k));
    for (key, token) in vault.access_tokens.iter().filter(|(k, _)| wanted(k)) {
        held.insert(key, token.clone());
    }
    for (host, entry) in vault.netrc.iter().filter(|(h, _)| wanted(h)) {
        held.insert(host, entry.token.clone());
    }
    Ok(held)
}

/// `logout` of `keys` (every key, when `None`) from the keyring store, asking first when `ask`.
/// `Some` when that was all there was to do (or the person declined); `None` when the files
/// hold tokens to log out of too (or the keyring holds none of them).
pub fn logout(
    ctx: &Context,
    keys: Option<&[String]>,
    dry_run: bool,
    ask: bool,
) -> Result<Option<bool>> {
    let held = forget(ctx, keys, true)?;
    if held.is_empty() {
        return Ok(None);
    }
    let shown = held.join(", ");
    let question = format!("Remove the token(s) for {shown} from the OS keyring?");
    let refusal = || format!("pass --yes to remove the token(s) for {shown} from the OS keyring");
    if ask && !ctx.ui.confirm(&question, refusal)? {
        ctx.ui.info("Nothing changed.");
        return Ok(Some(false));
    }
    if dry_run {
        ctx.ui.info(&format!(
            "Would remove the token(s) for {shown} from the OS keyring."
        ));
    } else {
        forget(ctx, keys, false)?;
        ctx.ui.info(&format!(
            "Removed the token(s) for {shown} from the OS keyring."
        ));
    }
    let in_files = Session::open(&ctx.layout)?.managed_keys();
    let rest = match keys {
        Some(keys) => keys.iter().any(|k| in_files.contains(k)),
        None => !in_files.is_empty(),
    };
    Ok((!rest).then_some(true))
}
