//! `status`'s expiry column beyond what providers say: the expiry an OAuth login remembers and a
//! JWT's `exp`, then the verdict for a credential that nothing renews and that expires within the
//! warning window: `expiring` (or `expired`, when it already has, even offline).

use super::Row;
use crate::context::Context;
use crate::error::Result;
use crate::nixconf::oauth::OAuthLogins;
use crate::ops::expiry::{self, Known};
use crate::ops::statuses::TokenStatus;
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
        if !matches!(row.status, TokenStatus::Valid | TokenStatus::Unverified) {
            continue;
        }
        // A renewable login lasts as long as its refresh token; anything else until it expires.
        let (at, renewable) = match local {
            Some(Known { at, until }) if until != Some(at) => match until {
                Some(until) => (until, true),
                None => continue,
            },
            _ => match row.expires_at.as_deref().and_then(time::parse_rfc3339) {
                Some(at) => (at, false),
                None => continue,
            },
        };
        let note = if at <= now && !renewable {
            row.status = TokenStatus::Expired;
            format!(
                "expired {}; replace it with `nix-tokens login {}`",
                time::rfc3339_unix(at),
                crate::nixconf::tokens::key_host(&row.host)
            )
        } else if at <= now || expiry::within(at, now, warn_days) {
            row.status = TokenStatus::Expiring;
            expiry::sentence(&row.host, at, now, renewable)
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
