//! When each credential Nix sees stops working, where that can be known without asking its
//! provider: the `exp` of a JWT (Attic, FlakeHub, minted prefix.dev tokens) and the expiry an
//! OAuth login remembers. A credential that nothing renews and that expires within the warning
//! window is *expiring*: `status` shows it so, and the refresh timers warn once per run for each,
//! with the command that replaces it.

use crate::context::Context;
use crate::error::Result;
use crate::nixconf::oauth::{OAuthLogin, OAuthLogins};
use crate::nixconf::picture::Picture;
use crate::nixconf::tokens::{key_host, key_wanted};
use crate::secret::{Secret, fingerprint};
use crate::time::{rfc3339_unix, unix_now};

/// The warning window when none is given: a week.
pub const DEFAULT_WARN_DAYS: u64 = 7;

/// What is known, offline, of when a credential stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// When this token expires (unix seconds).
    pub at: u64,
    /// When the credential stops working for good: `at` for a token nothing renews, the refresh
    /// token's expiry for a renewable login whose provider gave one (a GitHub App's six months),
    /// `None` for a login renewed indefinitely.
    pub until: Option<u64>,
}

/// The login among `logins` that holds exactly `token` for `key`.
pub fn login_of<'a>(
    logins: &'a OAuthLogins,
    key: &str,
    token: &Secret<String>,
) -> Option<&'a OAuthLogin> {
    logins.logins.get(key).filter(|l| {
        l.access_fingerprint.is_some() && l.access_fingerprint == Some(fingerprint(token))
    })
}

/// When `token` (Nix's credential for `key`) stops working, as far as its OAuth login or its own
/// claims say.
pub fn known(logins: &OAuthLogins, key: &str, token: &Secret<String>) -> Option<Known> {
    if let Some(login) = login_of(logins, key, token) {
        let renewable = login.refresh_token.is_some() || login.in_keyring;
        return Some(Known {
            at: login.expires_at,
            until: match renewable {
                true => login.refresh_expires_at,
                false => Some(login.expires_at),
            },
        });
    }
    crate::jwt::expiry(token.expose()).map(|at| Known {
        at,
        until: Some(at),
    })
}

/// Whether a credential that stops working at `at` does so within `warn_days` of `now` (and has
/// not already).
pub fn within(at: u64, now: u64, warn_days: u64) -> bool {
    at > now && at <= now.saturating_add(warn_days.saturating_mul(86_400))
}

/// How long is left until `at`, in words ("3 days", "5 hours", "12 minutes").
pub fn left(at: u64, now: u64) -> String {
    let secs = at.saturating_sub(now);
    match secs {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 90 * 60 => format!("{} hours", (s + 1800) / 3600),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// The sentence for a credential that stops working for good at `until`, soon: a token that
/// nothing renews, or a login whose refresh token expires then (`renewable`).
pub fn sentence(key: &str, until: u64, now: u64, renewable: bool) -> String {
    let (when, host) = (
        format!("{} (in {})", rfc3339_unix(until), left(until, now)),
        key_host(key),
    );
    match renewable {
        true => format!(
            "the login for {key} can be renewed only until {when}; log in again before then with `nix-tokens login {host}`"
        ),
        false => format!(
            "the token for {key} expires {when} and nix-tokens cannot renew it; replace it with `nix-tokens login {host}`"
        ),
    }
}

/// One sentence for each credential Nix sees (access-tokens, then its netrc) for `wanted` (every
/// one when empty) that nothing renews and that expires within `warn_days`, read without asking
/// any provider.
pub fn unrenewable_expiring(
    ctx: &Context,
    wanted: &[String],
    warn_days: u64,
) -> Result<Vec<String>> {
    let picture = Picture::read(&ctx.layout)?;
    let logins = OAuthLogins::load(&ctx.layout.oauth)?;
    let credentials: Vec<(String, Secret<String>)> = picture
        .credentials()
        .into_iter()
        .map(|c| (c.key, c.secret))
        .collect();
    let now = unix_now();
    Ok(credentials
        .iter()
        .filter(|(key, _)| key_wanted(key, wanted))
        .filter_map(|(key, token)| {
            let known = known(&logins, key, token)?;
            let until = known.until?;
            within(until, now, warn_days).then(|| sentence(key, until, now, until != known.at))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_and_the_words() {
        let now = 1_000_000;
        assert!(within(now + 86_400, now, 7));
        assert!(within(now + 7 * 86_400, now, 7));
        assert!(!within(now + 7 * 86_400 + 1, now, 7));
        assert!(!within(now, now, 7));
        assert!(!within(now + 60, now, 0));
        assert_eq!(left(now + 3 * 86_400 + 5, now), "3 days");
        assert_eq!(left(now + 5 * 3600, now), "5 hours");
        assert_eq!(left(now + 2 * 3600 - 5, now), "2 hours");
        assert_eq!(left(now + 61, now), "2 minutes");
    }
}
