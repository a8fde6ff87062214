//! Which files nix-tokens reads and writes.
//!
//! The nix.conf to edit is `--config`, else the first entry of `NIX_USER_CONF_FILES`, else
//! `$NIX_CONFIG_HOME/nix.conf`, else `$XDG_CONFIG_HOME/nix/nix.conf`, else `~/.config/nix/nix.conf`;
//! with `--system` it is `$NIX_CONF_DIR/nix.conf` (default `/etc/nix/nix.conf`), or on Determinate
//! Nix the `nix.custom.conf` that file includes (see [`super::determinate`]). The token file,
//! netrc, lock and backups live beside it. The files Nix itself reads, in order, are listed by
//! [`nix_read_order`].

use std::env;
use std::path::{Path, PathBuf};

use super::conf::normalize;
use crate::error::{Error, Result};

/// The name of the token file, beside nix.conf.
pub const TOKEN_FILE: &str = "access-tokens.conf";
/// The name of the netrc nix-tokens writes when nix.conf names none.
pub const NETRC_FILE: &str = "netrc";
/// The lock that serialises every change to the files beside nix.conf.
pub const LOCK_FILE: &str = ".nix-tokens.lock";
// The state files nix-tokens keeps beside nix.conf are the five below (`HOSTS_FILE`,
// `OAUTH_FILE`, `GIT_RECORD_FILE`, `CI_LOGINS_FILE`, `STORE_FILE`), all named here. Each says where tokens go
// or what is removed, so each is read only through `super::trust::read` (owned by the user or
// root, writable by no one else).

/// What nix-tokens remembers about each host (provider, base URL), beside nix.conf.
pub const HOSTS_FILE: &str = ".nix-tokens-hosts.json";
/// Refresh tokens of renewable OAuth logins, beside nix.conf (0600).
pub const OAUTH_FILE: &str = ".nix-tokens-oauth.json";
/// The record of the git settings `git-credential --install` added, beside nix.conf.
pub const GIT_RECORD_FILE: &str = ".nix-tokens-git.json";
/// The `login --ci` calls of this job, which `refresh --ci` makes again, beside nix.conf.
pub const CI_LOGINS_FILE: &str = "ci-logins.json";
/// Which store a configuration keeps its tokens in (files or the OS keyring), the netrc Nix read
/// before the keyring store took over, and whether `nix-tokens lock` locked it; beside nix.conf.
pub const STORE_FILE: &str = ".nix-tokens-store.json";

/// The files one nix-tokens run works on.
#[derive(Debug, Clone)]
pub struct Layout {
    /// nix.conf as named (a symlink stays a symlink here: includes resolve against this path).
    pub nix_conf: PathBuf,
    pub token_file: PathBuf,
    /// The netrc nix-tokens would create, beside nix.conf.
    pub netrc: PathBuf,
    pub lock: PathBuf,
    pub hosts: PathBuf,
    pub oauth: PathBuf,
    /// Nix's system configuration directory (`$NIX_CONF_DIR` or `/etc/nix`).
    pub system_dir: PathBuf,
    /// `--config` chose nix.conf, so it stands in for the user's nix.conf files.
    pub explicit_config: bool,
    /// `--system`: the system's nix.conf, which the nix-daemon reads.
    pub system: bool,
    /// The Nix store (`$NIX_STORE_DIR` or `/nix/store`): a nix.conf inside it is never edited.
    pub store_dir: PathBuf,
    /// With `--system` on Determinate Nix: its managed files, found once when the layout was
    /// chosen (the system configuration is then `nix.custom.conf`).
    pub determinate: Option<super::determinate::Determinate>,
}

fn var(name: &str) -> Option<PathBuf> {
    env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn home() -> Result<PathBuf> {
    var("HOME").ok_or_else(|| {
        Error::usage(
            "HOME is not set, so there is no user nix.conf; pass --config PATH or --system",
        )
    })
}

/// `$NIX_CONF_DIR`, or `/etc/nix`.
pub fn system_dir() -> PathBuf {
    var("NIX_CONF_DIR").unwrap_or_else(|| PathBuf::from("/etc/nix"))
}

/// The user's nix.conf, as nix-tokens chooses it when `--config` is not given.
pub fn user_nix_conf() -> Result<PathBuf> {
    if let Some(files) = env::var_os("NIX_USER_CONF_FILES")
        && let Some(first) = env::split_paths(&files).find(|p| !p.as_os_str().is_empty())
    {
        return Ok(first);
    }
    if let Some(dir) = var("NIX_CONFIG_HOME") {
        return Ok(dir.join("nix.conf"));
    }
    let config_home = match var("XDG_CONFIG_HOME") {
        Some(dir) => dir,
        None => home()?.join(".config"),
    };
    Ok(config_home.join("nix").join("nix.conf"))
}

impl Layout {
    /// The layout for `--config PATH`, `--system`, or neither.
    pub fn resolve(config: Option<&Path>, system: bool) -> Result<Self> {
        let determinate = match (config, system) {
            // Determinate's files are read there: first the directory is checked, as every
            // configuration directory is before anything in it is read.
            (None, true) => {
                super::trust::check_dir(&system_dir())?;
                super::determinate::detect_installed(&system_dir())?
            }
            _ => None,
        };
        let nix_conf = match (config, system, &determinate) {
            (Some(path), _, _) => path.to_path_buf(),
            // On Determinate Nix the system nix.conf is managed: its local settings file instead.
            (None, true, Some(determinate)) => determinate.system_conf()?,
            (None, true, None) => system_dir().join("nix.conf"),
            (None, false, _) => user_nix_conf()?,
        };
        let nix_conf = normalize(&if nix_conf.is_absolute() {
            nix_conf
        } else {
            env::current_dir()
                .map_err(|e| Error::io("find the current directory for", &nix_conf, &e))?
                .join(nix_conf)
        });
        let dir = nix_conf.parent().unwrap_or(Path::new("/")).to_path_buf();
        Ok(Layout {
            token_file: dir.join(TOKEN_FILE),
            netrc: dir.join(NETRC_FILE),
            lock: dir.join(LOCK_FILE),
            hosts: dir.join(HOSTS_FILE),
            oauth: dir.join(OAUTH_FILE),
            nix_conf,
            system_dir: system_dir(),
            explicit_config: config.is_some(),
            system: system && config.is_none(),
            store_dir: var("NIX_STORE_DIR").unwrap_or_else(|| PathBuf::from("/nix/store")),
            determinate,
        })
    }

    /// The directory that holds nix.conf, the token file, netrc and the lock.
    pub fn dir(&self) -> &Path {
        self.nix_conf.parent().unwrap_or(Path::new("/"))
    }

    /// The record of what `git-credential --install` added ([`GIT_RECORD_FILE`]).
    pub fn git_record(&self) -> PathBuf {
        self.dir().join(GIT_RECORD_FILE)
    }

    /// The `login --ci` calls to make again ([`CI_LOGINS_FILE`]).
    pub fn ci_logins(&self) -> PathBuf {
        self.dir().join(CI_LOGINS_FILE)
    }

    /// The configuration files Nix reads, lowest precedence first: the system nix.conf, then the
    /// user files (the first one listed wins, so it comes last). With `--config` the chosen file
    /// stands in for the user files.
    pub fn nix_read_order(&self) -> Vec<PathBuf> {
        let system = self.system_dir.join("nix.conf");
        let mut files = vec![system.clone()];
        let users: Vec<PathBuf> = if self.explicit_config {
            vec![self.nix_conf.clone()]
        } else if let Some(list) = env::var_os("NIX_USER_CONF_FILES") {
            env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        } else {
            let mut dirs: Vec<PathBuf> = user_nix_conf().into_iter().collect();
            let xdg_dirs = var("XDG_CONFIG_DIRS").unwrap_or_else(|| PathBuf::from("/etc/xdg"));
            dirs.extend(env::split_paths(&xdg_dirs).map(|d| d.join("nix").join("nix.conf")));
            dirs
        };
        files.extend(users.into_iter().rev().filter(|f| *f != system));
        files
    }
}
