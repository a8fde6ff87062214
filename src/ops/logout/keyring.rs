//! `logout` of what the keyring store holds: out of the keyring (and the runtime copies), after
//! the same question, and revoked at the provider with `--revoke`.

use super::{LogoutPlan, Which, revocations, revoke_all};
use crate::context::Context;
use crate::error::Result;
use crate::nixconf::hosts::Hosts;
use crate::nixconf::store::Session;
use crate::ops::keyring_store;
use crate::providers::Registry;

/// Takes the keys `plan` names out of the keyring store first. `Some` when that was all there
/// was to do (or the person declined).
pub(super) fn from_keyring(
    ctx: &Context,
    registry: &Registry,
    plan: &LogoutPlan,
) -> Result<Option<bool>> {
    let keys = match &plan.which {
        Which::Key(key) => Some(vec![key.clone()]),
        Which::All => None,
        Which::Menu => return Ok(None),
    };
    let held = keyring_store::held_tokens(ctx, keys.as_deref())?;
    if held.keys().next().is_none() {
        return Ok(None);
    }
    let held_keys: Vec<String> = held.keys().map(str::to_owned).collect();
    let (to_revoke, cannot) = match plan.revoke {
        true => {
            let session = Session::open(&ctx.layout)?;
            let remembered = Hosts::load(&ctx.layout.hosts)?;
            revocations(&session, registry, &remembered, &held_keys, &held)?
        }
        false => (Vec::new(), Vec::new()),
    };
    let ask = !(plan.dry_run || plan.force || ctx.ui.assume_yes);
    let done = keyring_store::logout(ctx, keys.as_deref(), plan.dry_run, ask)?;
    if done == Some(false) || !plan.revoke {
        return Ok(done);
    }
    if plan.dry_run {
        for r in &to_revoke {
            ctx.ui.info(&format!(
                "would revoke the token for {} at {}",
                r.key, r.host
            ));
        }
        return Ok(done);
    }
    let failed = revoke_all(ctx, to_revoke)? + cannot.len();
    for sentence in &cannot {
        ctx.ui.warn(sentence);
    }
    Ok(done.map(|all| all && failed == 0))
}
