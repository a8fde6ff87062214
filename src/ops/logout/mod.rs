//! Removing tokens from every file nix-tokens manages (and the entry it wrote in pixi's store),
//! after one confirmation; and, with `--revoke`, revoking them at their providers once they are
//! out of the files.

mod keyring;

use std::path::PathBuf;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::http::{self, Http};
use crate::nixconf::ci_logins;
use crate::nixconf::hosts::{HostInfo, Hosts};
use crate::nixconf::oauth::OAuthLogin;
use crate::nixconf::picture::Picture;
use crate::nixconf::store::{Note, Session};
use crate::nixconf::tokens::{TokenMap, host_without_port, key_host};
use crate::nixconf::{pasted, pixi};
use crate::ops::refresh::remembered_endpoint;
use crate::providers::forge::Site;
use crate::providers::shared::{OAuthRevocation, Revoked};
use crate::providers::{Provider, Registry};
use crate::secret::Secret;

/// Which tokens to remove.
#[derive(Debug, PartialEq, Eq)]
pub enum Which {
    /// Every token nix-tokens manages.
    All,
    /// The token of this key.
    Key(String),
    /// The one a person picks from a menu.
    Menu,
}

/// What `logout` is asked to do.
#[derive(Debug)]
pub struct LogoutPlan {
    pub which: Which,
    pub revoke: bool,
    pub dry_run: bool,
    /// Do not ask for confirmation.
    pub force: bool,
    /// Keep the substituter and keys a cache's login added.
    pub keep_substituter: bool,
}

/// A token to revoke once it is out of the files.
struct ToRevoke {
    key: String,
    host: String,
    provider: Provider,
    base: reqwest::Url,
    token: Secret<String>,
    client_id: Option<String>,
    client_secret: Option<Secret<String>>,
    refresh_token: Option<Secret<String>>,
    revocation_endpoint: Option<reqwest::Url>,
}

/// Runs `plan`. Returns whether everything asked for was done.
///
/// The menu and the question are asked without the lock, so that no other run waits for the
/// person: the files are read under the lock, the lock is let go while the person answers, and
/// taken again to read them afresh. The answer holds only for the tokens and files it named: when
/// they changed meanwhile, the question is asked again.
pub fn run(ctx: &Context, registry: &Registry, plan: &LogoutPlan) -> Result<bool> {
    if let Some(done) = keyring::from_keyring(ctx, registry, plan)? {
        return Ok(done);
    }
    let before = ctx.nix_tokens_now();
    let chosen: Option<Vec<String>> = match &plan.which {
        Which::All => None,
        Which::Key(key) => Some(vec![key.clone()]),
        Which::Menu => {
            let managed = Session::open(&ctx.layout)?.managed_keys();
            Some(vec![choose(ctx, &managed)?])
        }
    };
    let mut agreed: Option<(Vec<String>, Vec<PathBuf>)> = None;
    let (session, keys, to_revoke, cannot) = loop {
        let mut session = Session::open(&ctx.layout)?;
        let keys = chosen.clone().unwrap_or_else(|| session.managed_keys());
        if keys.is_empty() {
            return Err(nothing_to_log_out(ctx));
        }
        let remembered = Hosts::load(&ctx.layout.hosts)?;
        let (to_revoke, cannot) = if plan.revoke {
            revocations(&session, registry, &remembered, &keys, &TokenMap::default())?
        } else {
            (Vec::new(), Vec::new())
        };
        let files = remove_all(ctx, registry, &mut session, (&remembered, plan), &keys)?;
        let asked = (keys, files);
        // With --yes nothing is asked, so nothing needs reading afresh after the question.
        if plan.dry_run || plan.force || ctx.ui.assume_yes || agreed.as_ref() == Some(&asked) {
            break (session, asked.0, to_revoke, cannot);
        }
        drop(session);
        if !confirm(ctx, &asked.0, &asked.1)? {
            ctx.ui.info("Nothing changed.");
            return Ok(false);
        }
        agreed = Some(asked);
    };
    let report = session.commit(plan.dry_run)?;
    ctx.show_report(&report, plan.dry_run);
    if !plan.dry_run {
        ctx.ui
            .info(&format!("Removed the token(s) for {}.", shown(&keys)));
        ctx.warn_surprises(&before, None, &keys);
        ci_logins::forget(&ctx.layout, |target| {
            registry
                .resolve_target(target, None)
                .is_ok_and(|(key, _)| keys.contains(&key))
        })?;
    }
    if !plan.revoke {
        return Ok(true);
    }
    if plan.dry_run {
        for r in &to_revoke {
            ctx.ui.info(&format!(
                "would revoke the token for {} at {}",
                r.key, r.host
            ));
        }
        return Ok(true);
    }
    let failed = revoke_all(ctx, to_revoke)? + cannot.len();
    for sentence in &cannot {
        ctx.ui.warn(sentence);
    }
    Ok(failed == 0)
}

/// The tokens of `keys` that can be revoked (read before they leave the files), and a sentence
/// for each one whose provider nix-tokens does not know.
fn revocations(
    session: &Session,
    registry: &Registry,
    remembered: &Hosts,
    keys: &[String],
    in_keyring: &TokenMap,
) -> Result<(Vec<ToRevoke>, Vec<String>)> {
    let mut to_revoke = Vec::new();
    let mut cannot = Vec::new();
    // A token pasted as a host names no host to revoke it at, and is sent nowhere.
    for key in keys.iter().filter(|k| !pasted::token_shaped(k)) {
        let host = key_host(key).to_owned();
        let token = session
            .tokens()
            .get(key)
            .cloned()
            .or_else(|| session.nix_conf_tokens().get(key).cloned())
            .or_else(|| session.netrc().get(&host).and_then(|e| e.password.clone()))
            .or_else(|| in_keyring.get(key).cloned());
        let info = remembered.get(&host);
        let provider = registry.serving(&host, remembered);
        match (token, provider) {
            (Some(token), Some(provider)) => {
                let base = http::base_url(&host, info.and_then(|i| i.base_url.as_deref()))?;
                let login = session.oauth_logins().get(key);
                to_revoke.push(ToRevoke {
                    key: key.clone(),
                    host,
                    provider: provider.clone(),
                    base,
                    token,
                    client_id: login.map(|l| l.client_id.clone()),
                    client_secret: login.and_then(|l| l.client_secret.clone()),
                    refresh_token: login.and_then(|_| session.refresh_token(key).ok()),
                    revocation_endpoint: revocation_endpoint(login, key)?,
                });
            }
            (Some(_), None) => cannot.push(format!(
                "nix-tokens does not know what {host} runs, so it cannot revoke the token for {key}; revoke it in {host}'s settings"
            )),
            (None, _) => {}
        }
    }
    Ok((to_revoke, cannot))
}

/// Where `key`'s OAuth login says its tokens are revoked, checked again as at login; a refused one
/// ends the logout before anything changes.
fn revocation_endpoint(login: Option<&OAuthLogin>, key: &str) -> Result<Option<reqwest::Url>> {
    let Some(text) = login.and_then(|l| l.revocation_endpoint.as_deref()) else {
        return Ok(None);
    };
    remembered_endpoint(text).map(Some).map_err(|text| {
        Error::failed(format!(
            "the revocation endpoint the login for {key} names, `{text}`, is not https (plain http only for a loopback address), so no token was sent there; log out without --revoke and revoke the token in {}'s settings",
            key_host(key)
        ))
    })
}

/// Stages the removal of every key; returns the files that change, or the error for a key
/// nix-tokens does not hold.
fn remove_all(
    ctx: &Context,
    registry: &Registry,
    session: &mut Session,
    (remembered, plan): (&Hosts, &LogoutPlan),
    keys: &[String],
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for key in keys {
        if let Some(file) = remove_pixi_login(session, remembered, key)? {
            files.push(file);
        }
        // The substituter and keys a cache's login added go with its credential.
        if !plan.keep_substituter && session.stop_using_cache(key_host(key)) {
            files.push(ctx.layout.token_file.clone());
        }
        let mut from = session.remove(key)?;
        if from.is_empty() {
            ctx.show_notes(&session.notes);
            return Err(not_found(ctx, key));
        }
        // A token that serves several hosts (FlakeHub's) goes from each.
        let host = key_host(key);
        let provider = registry.serving(host, remembered);
        let others = provider.map_or_else(Vec::new, |p| p.netrc_hosts(host));
        for other in others.iter().filter(|h| *h != host && !key.contains('/')) {
            from.extend(session.remove(other)?);
        }
        for f in from {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    Ok(files)
}

/// Asks before the tokens of `keys` leave `files`.
fn confirm(ctx: &Context, keys: &[String], files: &[PathBuf]) -> Result<bool> {
    let listed: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let question = format!(
        "Remove the token(s) for {} from {}?",
        shown(keys),
        listed.join(", ")
    );
    let refusal = || {
        format!(
            "removing the token(s) for {} needs a confirmation and there is no terminal to ask; pass --yes",
            shown(keys)
        )
    };
    ctx.ui.confirm(&question, refusal)
}

/// Removes the login nix-tokens wrote for `key`'s host in pixi's credential store, if pixi still
/// holds that login there (and not one of its own). Returns the file when it changes.
fn remove_pixi_login(
    session: &mut Session,
    remembered: &Hosts,
    key: &str,
) -> Result<Option<std::path::PathBuf>> {
    let host = key_host(key);
    let Some(link) = remembered.get(host).and_then(|i| i.pixi.clone()) else {
        return Ok(None);
    };
    let Some(entry) = session.pixi_entry(&link.file, &link.key)? else {
        return Ok(None);
    };
    let token = session.tokens().get(key).cloned().or_else(|| {
        session
            .netrc()
            .get(host_without_port(host))
            .and_then(|e| e.password.clone())
    });
    let client = session
        .oauth_logins()
        .get(key)
        .map(|l| (l.client_id.clone(), l.token_endpoint.clone()));
    let client = client.as_ref().map(|(c, e)| (c.as_str(), e.as_str()));
    if pixi::is_ours(&entry, token.as_ref(), client) {
        session.set_pixi(&link.file, &link.key, None)?;
        return Ok(Some(link.file));
    }
    session.notes.push(Note::Info(format!(
        "left the login for {} in {} alone: pixi wrote it, not nix-tokens (`pixi auth logout {host}` removes it)",
        link.key,
        link.file.display()
    )));
    Ok(None)
}

/// Revokes each token at its provider; says what happened to each, and returns how many were
/// not revoked.
fn revoke_all(ctx: &Context, to_revoke: Vec<ToRevoke>) -> Result<usize> {
    if to_revoke.is_empty() {
        return Ok(0);
    }
    let http = Http::new()?;
    let runtime = http::runtime()?;
    let mut failed = 0;
    for r in to_revoke {
        let oauth = r.client_id.as_deref().map(|client_id| OAuthRevocation {
            client_id,
            client_secret: r.client_secret.as_ref(),
            refresh_token: r.refresh_token.clone(),
            endpoint: r.revocation_endpoint.clone(),
        });
        let site = Site {
            http: &http,
            provider: &r.provider,
            host: &r.host,
            base: &r.base,
            login: None,
        };
        let outcome = runtime.block_on(r.provider.forge().revoke(&site, &r.token, oauth));
        match outcome {
            Revoked::Done => ctx
                .ui
                .info(&format!("Revoked the token for {} at {}.", r.key, r.host)),
            Revoked::ByHand(how) => {
                failed += 1;
                ctx.ui.warn(&format!(
                    "nix-tokens cannot revoke {} tokens; {how}",
                    r.provider.name
                ));
            }
            Revoked::Failed(why) => {
                failed += 1;
                ctx.ui.warn(&format!(
                    "could not revoke the token for {} ({why}); it was removed here, so revoke it in {}'s settings",
                    r.key, r.host
                ));
            }
        }
    }
    Ok(failed)
}

/// One line of the menu: the key, and who and which provider it belongs to when known.
fn menu_label(key: &str, info: Option<&HostInfo>) -> String {
    let key = pasted::shown(key);
    match info {
        Some(HostInfo {
            provider,
            user: Some(user),
            ..
        }) => format!("{key}  ({user} on {provider})"),
        Some(info) => format!("{key}  ({})", info.provider),
        None => key,
    }
}

/// Keys as they are shown: a token pasted as a host only masked.
fn shown(keys: &[String]) -> String {
    let shown: Vec<String> = keys.iter().map(|k| pasted::shown(k)).collect();
    shown.join(", ")
}

/// The menu shown when no host is given, or an error listing the hosts when no one can answer.
fn choose(ctx: &Context, managed: &[String]) -> Result<String> {
    if managed.is_empty() {
        return Err(nothing_to_log_out(ctx));
    }
    if !ctx.ui.interactive {
        return Err(Error::usage(format!(
            "name the host to log out of: {} (or pass --all)",
            shown(managed)
        )));
    }
    let hosts = Hosts::load(&ctx.layout.hosts)?;
    let labels: Vec<String> = managed
        .iter()
        .map(|k| menu_label(k, hosts.get(key_host(k))))
        .collect();
    let index = dialoguer::Select::new()
        .with_prompt("Log out of which host?")
        .items(&labels)
        .default(0)
        .interact()
        .map_err(|e| Error::failed(format!("could not read the choice: {e}")))?;
    Ok(managed[index].clone())
}

/// The error when nix-tokens holds no token at all: a failed operation, as for a host without
/// a token ([`not_found`]), whether a host, `--all` or the menu was asked for.
fn nothing_to_log_out(ctx: &Context) -> Error {
    Error::failed(format!(
        "there is no token to log out of: nix-tokens holds none (in {} or {})",
        ctx.layout.token_file.display(),
        ctx.layout.netrc.display()
    ))
}

/// The error for a key nix-tokens does not hold: where Nix gets it instead, if anywhere.
fn not_found(ctx: &Context, key: &str) -> Error {
    let elsewhere = Picture::read(&ctx.layout)
        .map(|p| p.tokens)
        .unwrap_or_default()
        .into_iter()
        .find(|t| t.key == key);
    let key = pasted::shown(key);
    match elsewhere {
        Some(t) => Error::failed(format!(
            "the token for {key} is set in {} line {}, which nix-tokens does not manage; remove it there",
            t.file.display(),
            t.line
        )),
        None => Error::failed(format!("there is no token for {key} to remove")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_lines_name_the_user_and_provider() {
        let info = HostInfo {
            provider: "gitlab".into(),
            base_url: None,
            user: Some("tanuki".into()),
            pixi: None,
            ..HostInfo::default()
        };
        assert_eq!(
            menu_label("gitlab.com", Some(&info)),
            "gitlab.com  (tanuki on gitlab)"
        );
        let anonymous = HostInfo { user: None, ..info };
        assert_eq!(
            menu_label("gitlab.com", Some(&anonymous)),
            "gitlab.com  (gitlab)"
        );
        assert_eq!(menu_label("example.org", None), "example.org");
    }
}
