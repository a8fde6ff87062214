//! Copying a user's logins into root's own files, so that root's rebuilds (`sudo nixos-rebuild`,
//! `darwin-rebuild`, which fetch as root with root's configuration) can use them.
//!
//! Only validated token lines travel: the `access-tokens` pairs of the user's token file and
//! nix.conf, and the netrc `machine` entries of the hosts the user logged in to. They are written
//! into root's own token file and netrc (through the usual locked, atomic session), so root's
//! configuration never includes a file the user can write: such a file could set root's
//! `post-build-hook`. Anything else in the user's token file, which nix-tokens alone writes, is
//! refused, and then nothing is imported at all. Running it again copies what changed since.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::paths::Layout;
use crate::nixconf::store::Session;
use crate::nixconf::{trust, view};
use crate::secret::{Secret, mask};

mod as_user;
mod pick;

pub use as_user::UserIds;
use pick::{Picked, Sources, pick};

/// What `import` is asked to do.
#[derive(Debug, PartialEq, Eq)]
pub struct ImportPlan {
    /// Who the files belong to, for messages (`alice`, or the nix.conf given).
    pub who: String,
    /// The user's nix.conf; the token file, netrc and host facts are found beside it.
    pub from: PathBuf,
    /// The user named (`--from-user`); else the owner of `from`'s directory is.
    pub user: Option<UserIds>,
    pub dry_run: bool,
}

/// The user's files as read: the token file, nix.conf, the netrc their Nix reads (and whether
/// nix-tokens chose it), and the host facts.
struct UserFiles {
    token_text: String,
    conf_text: String,
    netrc: Option<(PathBuf, String, bool)>,
    hosts: Hosts,
}

impl UserFiles {
    /// Reads the files of the layout `from` (the netrc as the user's configuration names it), as
    /// `user` would: each a regular file of theirs (or root's) that no other user can write, in a
    /// directory no other user can write, opened with their permissions ([`as_user`]).
    fn read(from: &Layout, user: UserIds) -> Result<Self> {
        as_user::run_as(user, || {
            trust::check_dir(from.dir())?;
            let text = |path: &Path| -> Result<Option<String>> {
                let Some(bytes) = trust::read_of(path, Some(user.uid))? else {
                    return Ok(None);
                };
                String::from_utf8(bytes).map(Some).map_err(|_| {
                    Error::failed(format!(
                        "{} is not valid UTF-8, so nothing was imported; fix its encoding and try again",
                        path.display()
                    ))
                })
            };
            let token_text = text(&from.token_file)?.unwrap_or_default();
            let conf_text = text(&from.nix_conf)?.unwrap_or_default();
            // The last `netrc-file` of the user's nix.conf and token file; nix-tokens' own when
            // none.
            let settings = view::file_settings(&[from.nix_conf.clone(), from.token_file.clone()])?;
            let named = settings.iter().rev().find(|s| s.name == "netrc-file");
            let netrc_path = named.map_or_else(|| from.netrc.clone(), |s| PathBuf::from(&s.value));
            let ours = netrc_path == from.netrc;
            let hosts = text(&from.hosts)?;
            Ok(UserFiles {
                token_text,
                conf_text,
                netrc: text(&netrc_path)?.map(|text| (netrc_path, text, ours)),
                hosts: Hosts::parse(hosts.as_deref().unwrap_or(""), &from.hosts)?,
            })
        })
    }

    fn sources<'a>(&'a self, from: &'a Layout) -> Sources<'a> {
        Sources {
            token_file: (&from.token_file, &self.token_text),
            nix_conf: &self.conf_text,
            netrc: self
                .netrc
                .as_ref()
                .map(|(p, t, o)| (p.as_path(), t.as_str(), *o)),
            hosts: &self.hosts,
        }
    }
}

/// Runs `plan`: reads the user's files, picks their token lines, and writes them into the
/// system configuration's own files.
pub fn run(ctx: &Context, plan: &ImportPlan) -> Result<()> {
    let from = Layout::resolve(Some(&plan.from), false)?;
    if from.dir() == ctx.layout.dir() {
        return Err(Error::usage(format!(
            "{} is the system configuration itself; name a user's files with --from-user NAME or --from-config PATH",
            plan.from.display()
        )));
    }
    // The user named, else the owner of the directory of the nix.conf given.
    let user = plan
        .user
        .or_else(|| UserIds::owner_of(from.dir()))
        .unwrap_or(UserIds { uid: 0, gid: 0 });
    let picked = pick(&UserFiles::read(&from, user)?.sources(&from))?;
    if picked.tokens.keys().next().is_none() && picked.netrc.is_empty() {
        ctx.ui.info(&format!(
            "{} has no logins to import (looked in {}).",
            plan.who,
            from.dir().display()
        ));
        return Ok(());
    }
    let mut session = Session::open(&ctx.layout)?;
    let copied = apply(&mut session, &picked, &ctx.layout.token_file)?;
    let report = session.commit(plan.dry_run)?;
    ctx.show_report(&report, plan.dry_run);
    let verb = if plan.dry_run {
        "Would import"
    } else {
        "Imported"
    };
    for (key, token, file) in &copied {
        ctx.ui.info(&format!(
            "{verb} {key} ({}) from {} into {}.",
            mask(token),
            plan.who,
            file.display()
        ));
    }
    let total = picked.tokens.keys().count() + picked.netrc.len();
    if copied.len() < total {
        ctx.ui.info(&format!(
            "{} login(s) of {} were already the same for root.",
            total - copied.len(),
            plan.who
        ));
    }
    Ok(())
}

/// Sets every picked token that differs from root's; returns what was copied and where.
fn apply(
    session: &mut Session,
    picked: &Picked,
    token_file: &Path,
) -> Result<Vec<(String, Secret<String>, PathBuf)>> {
    let mut copied = Vec::new();
    for (key, token) in picked.tokens.iter() {
        if session.tokens().get(key) != Some(token) {
            session.set_access_token(key, token.clone())?;
            copied.push((key.to_owned(), token.clone(), token_file.to_path_buf()));
        }
    }
    for n in &picked.netrc {
        let same = session.netrc().get(&n.host).is_some_and(|e| {
            e.password.as_ref() == Some(&n.password) && e.login.as_deref().unwrap_or("") == n.login
        });
        if !same {
            session.set_netrc(&n.host, &n.login, &n.password)?;
            copied.push((
                n.host.clone(),
                n.password.clone(),
                session.netrc_path().to_path_buf(),
            ));
        }
    }
    for (host, info) in &picked.hosts {
        if session.host_info(host) != Some(info) {
            session.remember_host(host, info.clone());
        }
    }
    Ok(copied)
}
