//! `nix-tokens store keyring|file`: moving every token of a configuration into the keyring (and
//! scrubbing the plaintext copies), and back into files; either way round, every token stays
//! where Nix finds it should a step fail.

use super::{chosen, write_copies, write_state};
use crate::context::Context;
use crate::error::Result;
use crate::nixconf::runtime::{self, RuntimeDir};
use crate::nixconf::store::Session;
use crate::nixconf::vault::{self, NetrcLogin, StoreKind, StoreState, Vault};

/// `nix-tokens store keyring|file`: the store later logins use. `keyring` also moves every
/// token of the configuration into the keyring ([`move_in`]).
pub fn set_store(ctx: &Context, kind: StoreKind) -> Result<()> {
    chosen(ctx, Some(kind))?;
    if kind == StoreKind::Keyring {
        return move_in(ctx);
    }
    let state = vault::read_state(&ctx.layout)?;
    if state.store == StoreKind::Keyring {
        return move_out(ctx, state);
    }
    ctx.ui.info(&format!(
        "{} keeps its tokens in files already.",
        ctx.layout.nix_conf.display()
    ));
    Ok(())
}

/// Moves the keyring store's tokens back into the files beside nix.conf. The runtime copies go
/// first (so that the session reads the netrc the user's configuration names), and come back
/// when anything after fails: every token stays where Nix finds it.
fn move_out(ctx: &Context, state: StoreState) -> Result<()> {
    let vault = Vault::load(&ctx.layout)?;
    let runtime = RuntimeDir::find().ok();
    if let Some(runtime) = &runtime {
        runtime.remove(runtime::ACCESS_TOKENS)?;
        runtime.remove(runtime::NETRC)?;
    }
    let moved = (|| -> Result<crate::nixconf::store::Report> {
        let mut session = Session::open(&ctx.layout)?;
        for (key, token) in vault.access_tokens.iter() {
            session.set_access_token(key, token.clone())?;
        }
        for (host, entry) in &vault.netrc {
            session.set_netrc(host, &entry.login, &entry.token)?;
        }
        if let Some(runtime) = &runtime {
            session.remove_runtime_include(&runtime.access_tokens());
        }
        session.commit(false)
    })();
    let report = match moved {
        Ok(report) => report,
        Err(e) => {
            if let Some(runtime) = runtime.as_ref().filter(|_| !state.locked) {
                let _ = write_copies(runtime, &vault, &state);
            }
            return Err(e);
        }
    };
    ctx.show_report(&report, false);
    let count = vault.keys().len();
    Vault::default().save(&ctx.layout)?;
    write_state(ctx, &StoreState::default())?;
    ctx.ui.info(&format!(
        "Moved {count} token(s) of {} out of the OS keyring into files beside it; later logins go there too.",
        ctx.layout.nix_conf.display()
    ));
    Ok(())
}

/// Moves every token of the configuration into the keyring and scrubs the plaintext copies.
/// The keyring and the runtime copies are written before any file loses a token, so that a
/// failure at any step leaves every token where Nix finds it.
fn move_in(ctx: &Context) -> Result<()> {
    let runtime = RuntimeDir::find()?;
    let mut vault = Vault::load(&ctx.layout)?;
    let mut session = Session::open(&ctx.layout)?;
    let mut state = vault::read_state(&ctx.layout)?;
    if state.user_netrc.is_none() && !session.netrc_path().starts_with(&runtime.dir) {
        state.user_netrc = Some(session.netrc_path().to_path_buf());
    }
    let (tokens, netrc) = session.move_to_keyring(&runtime.dir)?;
    let moved = tokens.keys().count() + netrc.len();
    for (key, token) in tokens.iter() {
        vault.access_tokens.insert(key, token.clone());
    }
    for (host, login, token) in netrc {
        vault.netrc.insert(host, NetrcLogin { login, token });
    }
    session.held_in_keyring(vault.keys());
    session.ensure_runtime_include(&runtime.access_tokens())?;
    vault.save(&ctx.layout)?;
    let was_keyring = state.store == StoreKind::Keyring;
    state.store = StoreKind::Keyring;
    state.keys = vault.keys();
    state.locked = false;
    write_copies(&runtime, &vault, &state)?;
    let report = match session.commit(false) {
        Ok(report) => report,
        Err(e) => {
            // The files are as they were and Nix reads the tokens there: no copy stays behind.
            if !was_keyring {
                let _ = runtime.remove(runtime::ACCESS_TOKENS);
                let _ = runtime.remove(runtime::NETRC);
            }
            return Err(e);
        }
    };
    ctx.show_report(&report, false);
    write_state(ctx, &state)?;
    ctx.ui.info(&format!(
        "Moved {moved} token(s) of {} into the OS keyring; no file beside it holds them any more (scrubbed: {}). Later logins go to the keyring too.",
        ctx.layout.nix_conf.display(),
        scrubbed(&report)
    ));
    Ok(())
}

/// The files a move out of them changed, for the user.
fn scrubbed(report: &crate::nixconf::store::Report) -> String {
    let mut files: Vec<String> = report
        .changed
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    files.push("nix.conf's backups".to_owned());
    files.join(", ")
}
