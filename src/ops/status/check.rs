//! Asking every row's provider about its token, all at once, each check with its own timeout; a
//! token no provider is known for is recognised and checked in the same round trip.

use std::sync::Arc;
use std::time::Duration;

use super::Row;
use super::caches::{self, CacheRow};
use crate::error::Result;
use crate::http::{self, Http};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::install::Install;
use crate::nixconf::tokens;
use crate::ops::expiry;
use crate::ops::statuses::TokenStatus;
use crate::providers::detect;
use crate::providers::forge::{Audit, Site};
use crate::providers::shared::Verdict;
use crate::providers::{Provider, Registry};
use crate::time;

/// How long one token's check may take, all requests included.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Asks every row's provider about its token and every cache about its credential, all at once,
/// and fills in the verdicts.
pub fn check_all(
    registry: &Registry,
    remembered: &Hosts,
    urls: &[String],
    rows: &mut [Row],
    caches: &mut [CacheRow],
    install: &Install,
    warn_days: u64,
) -> Result<()> {
    let http = Http::new()?;
    let runtime = http::runtime()?;
    runtime.block_on(async {
        let tokens = check_tokens(&http, registry, remembered, urls, rows, warn_days);
        let caches = tokio::time::timeout(
            CHECK_TIMEOUT,
            caches::check(&http, caches, install, (registry, remembered)),
        );
        let ((), _) = tokio::join!(tokens, caches);
    });
    Ok(())
}

/// Asks every row's provider about its token, each on its own task with its own timeout.
async fn check_tokens(
    http: &Http,
    registry: &Registry,
    remembered: &Hosts,
    urls: &[String],
    rows: &mut [Row],
    warn_days: u64,
) {
    let builtin = Arc::new(registry.clone());
    let mut checks = tokio::task::JoinSet::new();
    for (i, row) in rows.iter_mut().enumerate() {
        let Some(secret) = row.secret.clone() else {
            continue;
        };
        let host = tokens::key_host(&row.host).to_owned();
        // A cache's token is checked at its substituter.
        let cache = row
            .provider
            .as_deref()
            .and_then(|p| super::cache_url(registry, remembered, urls, &host, p));
        let base = cache.or_else(|| remembered.get(&host).and_then(|h| h.base_url.clone()));
        let base = match http::base_url(&host, base.as_deref()) {
            Ok(base) => base,
            Err(e) => {
                row.status = TokenStatus::Unreachable;
                row.message = Some(e.to_string());
                continue;
            }
        };
        let job = Check {
            http: http.clone(),
            // A token added by hand for a host no one named is recognised and checked at once.
            provider: row
                .provider
                .as_deref()
                .and_then(|n| registry.by_name(n))
                .cloned(),
            builtin: builtin.clone(),
            host,
            base,
            secret,
            login: row.netrc_login.clone(),
        };
        checks.spawn(async move {
            let (verdict, provider) = tokio::time::timeout(CHECK_TIMEOUT, job.run())
                .await
                .unwrap_or_else(|_| {
                    let why = format!("no answer within {} seconds", CHECK_TIMEOUT.as_secs());
                    (Verdict::Unreachable(why), None)
                });
            (i, verdict, provider)
        });
    }
    while let Some(done) = checks.join_next().await {
        if let Ok((i, verdict, provider)) = done {
            if let Some(p) = &provider {
                rows[i].provider = Some(p.name.clone());
            }
            apply(&mut rows[i], verdict, provider.as_ref(), warn_days);
        }
    }
}

/// One token's check, owning what it needs to run on its own task.
struct Check {
    http: Http,
    /// The token's provider, when it is known.
    provider: Option<Provider>,
    /// The providers, for the built-in one of a kind detection finds.
    builtin: Arc<Registry>,
    host: String,
    base: reqwest::Url,
    secret: crate::secret::Secret<String>,
    /// The netrc login beside the token.
    login: Option<String>,
}

impl Check {
    /// The verdict, and the provider that gave it.
    async fn run(self) -> (Verdict, Option<Provider>) {
        if let Some(provider) = self.provider {
            let site = Site {
                http: &self.http,
                provider: &provider,
                host: &self.host,
                base: &self.base,
                login: self.login.as_deref(),
            };
            let verdict = provider.forge().check(&site, &self.secret).await;
            let verdict = verdict.unwrap_or_else(|e| Verdict::Unreachable(e.0));
            return (verdict, Some(provider));
        }
        let builtin = |kind: crate::providers::Kind| self.builtin.by_name(kind.name()).cloned();
        let (verdict, kind) =
            detect::identify_and_check(&self.http, &builtin, &self.host, &self.base, &self.secret)
                .await;
        (verdict, kind.and_then(builtin))
    }
}

/// Puts a provider's verdict into a row: status, user, scopes, what the token may do beyond
/// reading, expiry (with a note when it is within `warn_days`), and a note.
fn apply(row: &mut Row, verdict: Verdict, provider: Option<&Provider>, warn_days: u64) {
    let mut notes: Vec<String> = row.message.take().into_iter().collect();
    match verdict {
        Verdict::Valid(id) => {
            let now = time::unix_now();
            let expires = id.expires_at.as_deref().and_then(time::parse_rfc3339);
            row.status = if expires.is_some_and(|e| e <= now) {
                TokenStatus::Expired
            } else {
                TokenStatus::Valid
            };
            if let Some(at) = expires
                && expiry::within(at, now, warn_days)
            {
                notes.push(format!("expires in {} days", (at - now) / 86_400));
            }
            if let (Some(scopes), Some(p)) = (&id.scopes, provider) {
                let missing = p.forge().missing_scopes(&p.scopes, scopes);
                if !missing.is_empty() {
                    notes.push(format!(
                        "lacks the scope(s) {} that Nix needs for private repositories",
                        missing.join(", ")
                    ));
                }
            }
            if let (Some(p), Some(secret)) = (provider, &row.secret) {
                let privileges = p.forge().privileges(&Audit {
                    provider: p,
                    host: tokens::key_host(&row.host),
                    token: secret,
                    scopes: id.scopes.as_deref(),
                });
                // A token that can write is valid all the same; the note says what it can do.
                if privileges.read_only == Some(false) {
                    notes.push(format!("the token {}", privileges.summary));
                }
                row.privileges = Some(privileges);
            }
            if let Some((left, limit)) = id.rate_limit {
                notes.push(format!("rate limit {left} of {limit} left this hour"));
            }
            notes.extend(id.remark);
            row.user = (!id.user.is_empty()).then_some(id.user);
            row.scopes = id.scopes.unwrap_or_default();
            row.expires_at = id.expires_at;
        }
        Verdict::Rejected(why) => {
            // Providers say why in their own words (GitLab: "Token was revoked", "Token is
            // expired"); the verdict follows them, and is "invalid" otherwise.
            let lower = why.to_lowercase();
            row.status = if lower.contains("revoked") {
                TokenStatus::Revoked
            } else if lower.contains("expired") {
                TokenStatus::Expired
            } else {
                TokenStatus::Invalid
            };
            notes.push(why);
        }
        Verdict::Unreachable(why) => {
            row.status = TokenStatus::Unreachable;
            notes.push(why);
        }
        Verdict::Unverified(why) => notes.push(why),
    }
    row.message = (!notes.is_empty()).then(|| notes.join("; "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::shared::Identity;

    /// The note a valid token gets that expires `left` seconds from now, with `warn_days`.
    fn note(left: u64, warn_days: u64) -> Option<String> {
        let mut row = Row {
            kind: "token",
            host: "git.example.com".into(),
            provider: None,
            user: None,
            scopes: Vec::new(),
            privileges: None,
            expires_at: None,
            status: TokenStatus::Unverified,
            source: "/p/netrc".into(),
            token: "****".into(),
            message: None,
            secret: None,
            netrc_login: None,
        };
        let identity = Identity {
            user: String::new(),
            scopes: None,
            expires_at: Some(time::rfc3339_unix(time::unix_now() + left)),
            rate_limit: None,
            remark: None,
        };
        apply(&mut row, Verdict::Valid(identity), None, warn_days);
        row.message
    }

    #[test]
    fn the_expiry_note_follows_the_warning_window() {
        let day = 86_400;
        assert_eq!(
            note(5 * day + 3600, 7).as_deref(),
            Some("expires in 5 days")
        );
        assert_eq!(note(10 * day + 3600, 7), None);
        assert_eq!(
            note(10 * day + 3600, 14).as_deref(),
            Some("expires in 10 days")
        );
        assert_eq!(note(2 * day + 3600, 1), None);
    }
}
