//! What each input comes to: a verdict (`ok`, `fails`, `unreachable` or `skipped`), a one-line
//! reason, and for a failing input the command that fixes it (`nix-tokens login HOST [--owner
//! OWNER]`, `nix-tokens git-credential --install`, `nix-tokens set-token HOST --netrc`).

use super::credential::{Credential, Helper};
use super::probe::{Found, How};
use super::target::Target;
use crate::gitcred::gitconfig::shell_quote;
use crate::ops::statuses::InputVerdict;
use crate::providers::shared::RepoAccess;

/// An input's verdict, reason and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub verdict: InputVerdict,
    pub reason: String,
    pub fix: Option<String>,
    /// What else is worth knowing about the input (a credential's quirk, a host's limit), each a
    /// clause of its own: `check` adds them to the reason, and its table prints one that several
    /// inputs share once, after the table.
    pub notes: Vec<String>,
}

impl Judged {
    pub fn skipped(reason: impl Into<String>) -> Self {
        Judged {
            verdict: InputVerdict::Skipped,
            reason: reason.into(),
            fix: None,
            notes: Vec::new(),
        }
    }

    pub fn fails(reason: impl Into<String>, fix: Option<String>) -> Self {
        Judged {
            verdict: InputVerdict::Fails,
            reason: reason.into(),
            fix,
            notes: Vec::new(),
        }
    }
}

/// What a fix needs beside the input and its credential.
pub struct Facts {
    /// The installed Nix uses `host/owner` keys.
    pub owner_keys: bool,
    /// The input's host has some access-tokens key.
    pub host_has_keys: bool,
    /// `--provider NAME` when nix-tokens knows no provider for a forge input's host.
    pub provider: Option<String>,
}

/// The verdict on one input, from what asking `found` (nothing when offline).
pub fn judge(
    target: &Target,
    credential: &Credential,
    found: Option<&Found>,
    facts: &Facts,
) -> Judged {
    let mut judged = match (target, found) {
        (Target::Skipped(why), _) => Judged::skipped(why.clone()),
        (Target::Ssh, _) => Judged::skipped("SSH keys: not checked"),
        (_, None) => Judged::skipped(offline(target, credential)),
        (_, Some(found)) => answered(target, credential, found, facts),
    };
    let notes = found
        .and_then(|f| f.note.clone())
        .into_iter()
        .chain(credential.notes.iter().cloned());
    judged.notes.extend(notes);
    judged
}

/// Offline: only what Nix will send.
fn offline(target: &Target, credential: &Credential) -> String {
    let key = credential.key.as_deref().unwrap_or("");
    match (&credential.helper, &credential.token) {
        (Helper::NotAsked, _) => "offline: git does not ask nix-tokens for it".into(),
        (Helper::Unknown, _) => "offline: git's configuration could not be read".into(),
        (Helper::Asked { .. }, Some(_)) => {
            format!("offline: git asks nix-tokens, which answers with {key}")
        }
        (Helper::Asked { .. }, None) => {
            "offline: git asks nix-tokens, which has no token for it".into()
        }
        (Helper::NotGit, Some(_)) if matches!(target, Target::Download { .. }) => {
            format!("offline: curl sends the {key} entry")
        }
        (Helper::NotGit, Some(_)) => format!("offline: Nix sends the token for {key}"),
        (Helper::NotGit, None) => "offline: Nix sends no token".into(),
    }
}

fn answered(target: &Target, credential: &Credential, found: &Found, facts: &Facts) -> Judged {
    let token = credential.token.is_some();
    let fix = |invalid| fix(target, credential, facts, invalid);
    let ok = |reason: &str| Judged {
        verdict: InputVerdict::Ok,
        reason: reason.to_owned(),
        fix: None,
        notes: Vec::new(),
    };
    let missing = |why: &str| {
        let git = match (&credential.helper, credential.could_answer) {
            (Helper::NotAsked, true) => "; git does not ask nix-tokens for it, which has a token",
            (Helper::NotAsked, false) => {
                "; git does not ask nix-tokens for it, and nix-tokens has no token"
            }
            _ => "",
        };
        format!("private and no token{why}{git}")
    };
    // Asked without a credential Nix will send: only "public" says anything.
    if let Some(why) = credential.withheld
        && matches!(
            found.access,
            RepoAccess::Hidden | RepoAccess::Refused(_) | RepoAccess::Forbidden(_)
        )
    {
        return Judged::skipped(format!("not readable without its netrc entry; {why}"));
    }
    match &found.access {
        RepoAccess::Public => ok("public"),
        RepoAccess::Private => ok(match found.how {
            How::Download => "the netrc entry reads it",
            How::Git => "private; git reads it with the token from nix-tokens",
            How::Api => "private; the token can read it",
        }),
        RepoAccess::Hidden if token => Judged::fails(
            "the token cannot read it (or it does not exist)",
            fix(false),
        ),
        RepoAccess::Hidden => Judged::fails(missing(" (or it does not exist)"), fix(false)),
        RepoAccess::Refused(why) if !token => {
            Judged::fails(missing(&format!(" ({why})")), fix(false))
        }
        RepoAccess::Refused(why) if found.how == How::Git => Judged::fails(
            format!(
                "the server refused the token git sent: it is invalid or cannot read it ({why})"
            ),
            fix(true),
        ),
        RepoAccess::Refused(why) => {
            Judged::fails(format!("the token is invalid ({why})"), fix(true))
        }
        RepoAccess::Forbidden(why) if why.contains("rate limit") => {
            Judged::fails(why.clone(), fix(false))
        }
        // A scope the token lacks: a new token for the same key, not one for the owner.
        RepoAccess::Forbidden(why) if token => {
            Judged::fails(format!("the token cannot read it ({why})"), fix(true))
        }
        RepoAccess::Forbidden(why) => Judged::fails(missing(&format!(" ({why})")), fix(false)),
        RepoAccess::Unreachable(why) => Judged {
            verdict: InputVerdict::Unreachable,
            reason: why.clone(),
            fix: None,
            notes: Vec::new(),
        },
        RepoAccess::Unknown(why) => Judged::skipped(why.clone()),
    }
}

/// The command that fixes a failing input; `invalid` when its token itself must be replaced
/// (refused outright, or without a scope it needs).
fn fix(target: &Target, credential: &Credential, facts: &Facts, invalid: bool) -> Option<String> {
    let login = |host: &str, owner: Option<&str>, provider: Option<&str>| {
        let mut command = format!("nix-tokens login {}", shell_quote(host));
        if let Some(owner) = owner {
            command.push_str(&format!(" --owner {}", shell_quote(owner)));
        }
        if let Some(provider) = provider {
            command.push_str(&format!(" --provider {}", shell_quote(provider)));
        }
        command
    };
    let owner_key = credential.key.as_deref().is_some_and(|k| k.contains('/'));
    match target {
        Target::Forge { host, owner, .. } => {
            let per_owner = match &credential.key {
                None => facts.owner_keys && facts.host_has_keys,
                Some(_) if owner_key => true,
                Some(_) => facts.owner_keys && !invalid,
            };
            Some(login(
                host,
                per_owner.then_some(owner.as_str()),
                facts.provider.as_deref(),
            ))
        }
        Target::Git { host, path, .. } => match &credential.helper {
            Helper::NotAsked if credential.could_answer => {
                Some("nix-tokens git-credential --install".into())
            }
            Helper::NotAsked => Some(format!(
                "{} && nix-tokens git-credential --install",
                login(host, None, None)
            )),
            Helper::Asked { .. } => {
                let owner = path.split('/').next().filter(|_| owner_key);
                Some(login(host, owner, None))
            }
            Helper::Unknown | Helper::NotGit => None,
        },
        Target::Download { url, .. } => Some(format!(
            "nix-tokens set-token {} --netrc",
            shell_quote(url.host_str().unwrap_or(""))
        )),
        Target::Ssh | Target::Skipped(_) => None,
    }
}
