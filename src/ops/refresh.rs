//! Renewing OAuth logins that are about to expire.
//!
//! Under the lock: read the renewable logins, ask each provider whose token expires within the
//! threshold for a new pair, and write the new access token into Nix's file and the rotated
//! refresh token beside it in one commit, so that a crash never leaves a pair that no longer
//! works. pixi renews the same logins on its own; a newer pair it holds is taken over instead of
//! spending the refresh token again.

use reqwest::Url;

use crate::context::Context;
use crate::error::Result;
use crate::flows::refresh::{RefreshError, refresh};
use crate::http::{self, Http};
use crate::nixconf::oauth::OAuthLogin;
use crate::nixconf::pixi;
use crate::nixconf::store::Session;
use crate::nixconf::tokens::{check_token, host_without_port, key_host, key_wanted};
use crate::providers::Registry;
use crate::providers::forge::Origin;
use crate::secret::Secret;
use crate::time::{rfc3339_unix, unix_now};

/// The renewal margin: a command that renews OAuth logins before it uses them (`status`, git's
/// helper) renews each with less than this many minutes left, and so does `refresh` unless
/// `--threshold` says otherwise.
pub const RENEW_WITHIN_MINUTES: u64 = 5;

/// [`RENEW_WITHIN_MINUTES`] in seconds.
pub const RENEW_WITHIN: u64 = RENEW_WITHIN_MINUTES * 60;

/// The one rule for when a login is due for renewal: its token expires at `expires_at`, no later
/// than `within` seconds after `now`.
pub fn due(expires_at: u64, now: u64, within: u64) -> bool {
    expires_at <= now.saturating_add(within)
}

/// Puts a renewed token where the login keeps it (access-tokens or netrc, and pixi's credential
/// store when the login was written there too).
fn store_renewed(
    session: &mut Session,
    key: &str,
    token: Secret<String>,
    login: OAuthLogin,
) -> Result<()> {
    let host = key_host(key);
    if let Some(link) = session.host_info(host).and_then(|i| i.pixi.clone()) {
        let entry = pixi::OAuthEntry {
            access_token: &token,
            refresh_token: login.refresh_token.as_ref(),
            expires_at: login.expires_at,
            token_endpoint: &login.token_endpoint,
            revocation_endpoint: login.revocation_endpoint.as_deref(),
            client_id: &login.client_id,
        };
        session.set_pixi(&link.file, &link.key, Some(entry.to_json()))?;
    }
    if session.holds_in_keyring(key) {
        // The keyring store: the keyring (and the runtime copies) first, then the login.
        let netrc = login.netrc_login.as_deref();
        super::keyring_store::store_renewed(session.layout(), key, netrc, token)?;
        session.set_oauth_login(key, Some(login));
        return Ok(());
    }
    match &login.netrc_login {
        Some(name) => session.set_netrc(host_without_port(host), name, &token)?,
        None => {
            session.set_access_token(key, token)?;
        }
    }
    session.set_oauth_login(key, Some(login));
    Ok(())
}

/// The newer pair of the same login (same client, same token endpoint) that pixi keeps in its
/// credential store, when pixi has renewed the login since nix-tokens last did.
fn take_pixis_renewal(
    session: &mut Session,
    key: &str,
    login: &OAuthLogin,
) -> Result<Option<(Secret<String>, OAuthLogin)>> {
    let Some(link) = session
        .host_info(key_host(key))
        .and_then(|i| i.pixi.clone())
    else {
        return Ok(None);
    };
    let entry = session.pixi_entry(&link.file, &link.key)?;
    let Some(oauth) = entry.as_ref().and_then(|e| e.get("OAuth")) else {
        return Ok(None);
    };
    let text = |k: &str| oauth.get(k).and_then(serde_json::Value::as_str);
    let expires_at = oauth
        .get("expires_at")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let same = text("client_id") == Some(login.client_id.as_str())
        && text("token_endpoint") == Some(login.token_endpoint.as_str());
    let Some(access) = text("access_token").filter(|_| same && expires_at > login.expires_at)
    else {
        return Ok(None);
    };
    let access = Secret::new(access.to_owned());
    check_token(&access, key)?;
    let refresh = text("refresh_token").map(|r| Secret::new(r.to_owned()));
    let newer = OAuthLogin {
        expires_at,
        in_keyring: refresh.is_none() && login.in_keyring,
        refresh_token: refresh.or_else(|| login.refresh_token.clone()),
        access_fingerprint: None,
        ..login.clone()
    };
    Ok(Some((access, newer)))
}

/// An endpoint an OAuth login remembers, checked again as at login ([`http::base_url`]: https, or
/// plain http on a loopback address), since the file it was read from may have been edited since.
/// Refused, the error is the text made printable, for the caller's sentence.
pub fn remembered_endpoint(text: &str) -> std::result::Result<Url, String> {
    http::base_url("", Some(text)).map_err(|_| crate::ui::printable(text))
}

/// What [`renew_due`] did.
pub struct Renewal {
    /// How many logins were due.
    pub due: usize,
    /// One sentence for each login that could not be renewed.
    pub failed: Vec<String>,
}

/// Renews, under the lock and in one commit, every OAuth login among `wanted` (all when empty)
/// that expires within `threshold` seconds or whose token Nix's file no longer holds. Says what
/// it renewed; returns what failed.
pub fn renew_due(
    ctx: &Context,
    registry: &Registry,
    wanted: &[String],
    threshold: u64,
) -> Result<Renewal> {
    let mut session = Session::open(&ctx.layout)?;
    let now = unix_now();
    let due_before = now.saturating_add(threshold);
    let due: Vec<(String, OAuthLogin)> = session
        .oauth_logins()
        .iter()
        .filter(|(key, _)| key_wanted(key, wanted))
        .filter(|(key, login)| {
            due(login.expires_at, now, threshold) || session.oauth_out_of_step(key)
        })
        .map(|(k, l)| (k.clone(), l.clone()))
        .collect();
    let mut outcome = Renewal {
        due: due.len(),
        failed: Vec::new(),
    };
    if due.is_empty() {
        return Ok(outcome);
    }
    let renewer = Renewer {
        http: Http::new()?,
        runtime: crate::http::runtime()?,
        registry,
        due_before,
    };
    let mut renewed = Vec::new();
    for (key, login) in due {
        match renewer.renew(&mut session, &key, login) {
            Ok(expires_at) => renewed.push((key, expires_at)),
            Err(why) => outcome.failed.push(why),
        }
    }
    if !renewed.is_empty() {
        let report = session.commit(false)?;
        ctx.show_notes(&report.notes);
    }
    for (key, expires_at) in &renewed {
        ctx.ui.info(&format!(
            "Renewed the token for {key}; it now expires {}.",
            rfc3339_unix(*expires_at)
        ));
    }
    Ok(outcome)
}

/// What renewing one login after the other needs.
struct Renewer<'r> {
    http: Http,
    runtime: tokio::runtime::Runtime,
    registry: &'r Registry,
    /// A login expiring before this (unix seconds) is due.
    due_before: u64,
}

impl Renewer<'_> {
    /// Renews `key`'s login in `session` (pixi's newer pair, or a new one from the provider).
    /// Returns when the new token expires, or one sentence saying why it could not be renewed.
    fn renew(
        &self,
        session: &mut Session,
        key: &str,
        login: OAuthLogin,
    ) -> std::result::Result<u64, String> {
        let host = key_host(key).to_owned();
        let url = remembered_endpoint(&login.token_endpoint).map_err(|text| {
            format!(
                "the token endpoint the login for {key} names, `{text}`, is not https (plain http only for a loopback address), so its refresh token was not sent there; log in again with `nix-tokens login {host}`"
            )
        })?;
        // pixi renews this login on its own too; when it has, its pair is the one that works.
        let (login, pixis) = match take_pixis_renewal(session, key, &login) {
            Ok(Some((token, newer))) if newer.expires_at > self.due_before => {
                let expires_at = newer.expires_at;
                return store_renewed(session, key, token, newer)
                    .map(|()| expires_at)
                    .map_err(|e| format!("could not store pixi's newer token for {key}: {e}"));
            }
            Ok(Some((_, newer))) => {
                let refresh = newer.refresh_token.clone();
                (newer, refresh)
            }
            Ok(None) => (login, None),
            Err(e) => return Err(e.to_string()),
        };
        let current = pixis.map_or_else(|| session.refresh_token(key), Ok)?;
        let renewal = refresh(
            &self.http,
            &url,
            &login.client_id,
            login.client_secret.as_ref(),
            &current,
        );
        let pair = self.runtime.block_on(renewal).map_err(|e| match e {
            RefreshError::InvalidGrant => format!(
                "the login for {key} can no longer be renewed (the provider refused its refresh token); log in again with `nix-tokens login {host}`"
            ),
            RefreshError::Other(why) => format!("could not renew the token for {key}: {why}"),
        })?;
        let expires_at = unix_now().saturating_add(pair.expires_in.unwrap_or(7200));
        let token = match self.registry.by_name(&login.provider) {
            Some(p) if login.netrc_login.is_none() => {
                p.forge().access_token(pair.access_token, Origin::OAuth)
            }
            _ => pair.access_token,
        };
        // What a server hands back goes into Nix's configuration only if it is a token.
        check_token(&token, key)
            .map_err(|e| format!("the provider's new token for {key} was refused: {e}"))?;
        // A new refresh token has the lifetime the answer gives it (unknown when it gives none);
        // a kept one keeps its own.
        let refresh_expires_at = match (&pair.refresh_token, pair.refresh_expires_in) {
            (_, Some(secs)) => Some(unix_now().saturating_add(secs)),
            (Some(_), None) => None,
            (None, None) => login.refresh_expires_at,
        };
        let login = OAuthLogin {
            expires_at,
            refresh_expires_at,
            refresh_token: Some(pair.refresh_token.unwrap_or(current)),
            in_keyring: false,
            access_fingerprint: None,
            ..login
        };
        store_renewed(session, key, token, login)
            .map_err(|e| format!("could not store the new token for {key}: {e}"))?;
        Ok(expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_due_within_the_margin() {
        let now = 1_000_000;
        assert!(due(now + RENEW_WITHIN, now, RENEW_WITHIN));
        assert!(due(now, now, RENEW_WITHIN) && due(now - 1, now, RENEW_WITHIN));
        assert!(!due(now + RENEW_WITHIN + 1, now, RENEW_WITHIN));
        assert!(due(u64::MAX, now, u64::MAX));
        assert_eq!(RENEW_WITHIN, 300);
    }
}
