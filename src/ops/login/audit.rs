//! What a login's checked token may do: the provider's privilege audit for the success line; the
//! scopes Nix needs that a plain login's token lacks; for a read-only login, the provider's check
//! that the token reads and cannot write (refused unless forced); and for a public login, a warning
//! when the provider gave more than was asked.

use super::{Access, LoginPlan, Obtain};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::http::Unreachable;
use crate::providers::forge::{Audit, Site};
use crate::providers::shared::{Identity, Privileges, ReadOnlyCheck};
use crate::secret::Secret;

/// Audits the valid `token` (as stored for Nix) as the plan's access asks; an error when a
/// read-only login's token does not pass and the plan does not force it.
pub async fn audit(
    ctx: &Context,
    plan: &LoginPlan<'_>,
    site: &Site<'_>,
    token: &Secret<String>,
    identity: &Identity,
) -> Result<Privileges> {
    let forge = plan.provider.forge();
    let host = &plan.target.host;
    let privileges = forge.privileges(&Audit {
        provider: plan.provider,
        host,
        token,
        scopes: identity.scopes.as_deref(),
    });
    let device = matches!(plan.obtain, Obtain::Device { .. });
    match &plan.access {
        Access::Default => warn_missing(ctx, plan, identity),
        Access::Public if privileges.read_only != Some(true) => ctx.ui.warn(&format!(
            "{host} gave the token more than public access: it {}",
            privileges.summary
        )),
        Access::Public => {}
        Access::ReadOnly { owner } => {
            match forge
                .check_read_only(site, token, identity, owner.as_deref(), device)
                .await
            {
                Ok(ReadOnlyCheck::Reads(what)) => ctx.ui.info(&format!("The token {what}.")),
                Ok(ReadOnlyCheck::Refused(why)) => refuse(
                    ctx,
                    plan,
                    format!("the token is not for a read-only login: {why}"),
                )?,
                Err(Unreachable(why)) => refuse(
                    ctx,
                    plan,
                    format!("could not check with {host} that the token reads ({why})"),
                )?,
            }
        }
    }
    Ok(privileges)
}

/// Warns when the token lacks a scope Nix needs to read private repositories.
fn warn_missing(ctx: &Context, plan: &LoginPlan, identity: &Identity) {
    let Some(scopes) = &identity.scopes else {
        return;
    };
    let missing = plan
        .provider
        .forge()
        .missing_scopes(&plan.provider.scopes, scopes);
    if !missing.is_empty() {
        ctx.ui.warn(&format!(
            "the token lacks the scope(s) {} that Nix needs to read private repositories",
            missing.join(", ")
        ));
    }
}

/// A read-only login's refusal: an error, or with `--force` a warning.
fn refuse(ctx: &Context, plan: &LoginPlan, why: String) -> Result<()> {
    if plan.force {
        ctx.ui.warn(&format!("{why}; saving it anyway (--force)"));
        Ok(())
    } else {
        Err(Error::failed(format!(
            "{why}. Nothing was saved; pass --force to save it anyway"
        )))
    }
}
