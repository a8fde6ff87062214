//! `status`'s expiry column beyond what providers say: the expiry an OAuth login remembers and a
//! JWT's `exp`, then the verdict for a credential that nothing renews and that expires within the
//! warning window: `expiring` (or `expired`, when it already has, even offline).

use super::Row;
use crate::context::Context;
use crate::error::Result;
use crate::nixconf::oauth::OAuthLogins;
use crate::ops::expiry::{self, Known};
use crate::time;

/// Fills in the expiry each row's login or claims know of, and marks the rows that expire within
/// `warn_days` with nothing to renew them.
pub fn mark(ctx: &Context, rows: &mut [Row], warn_days: u64) -> Result<()> {
    let logins = OAuthLogins::load(&ctx.layout.oauth)?;
    let now = time::unix_now();
    for row in rows.iter_mut() {
        let Some(secret) = &row.secret else {
            continue;
        };
        let local = expiry::known(&logins, &row.host, secret);
        if row.expires_at.is_none()
            && let Some(Known { at, .. }) = local
        {
            row.expires_at = Some(time::rfc3339_unix(at));
        }
        if local.is_some_and(|k| k.renewable) || !matches!(row.status, "valid" | "unverified") {
            continue;
        }
        let Some(at) = row.expires_at.as_deref().and_then(time::parse_rfc3339) else {
            continue;
        };
        let note = if at <= now {
            row.status = "expired";
            format!(
                "expired {}; replace it with `nix-tokens login {}`",
                time::rfc3339_unix(at),
                crate::nixconf::tokens::key_host(&row.host)
            )
        } else if expiry::within(at, now, warn_days) {
            row.status = "expiring";
            expiry::sentence(&row.host, at, now)
        } else {
            continue;
        };
        row.message = Some(match row.message.take() {
            Some(m) => format!("{m}; {note}"),
            None => note,
        });
    }
    Ok(())
}
