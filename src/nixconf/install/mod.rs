//! How Nix is installed here, decided once per run: single-user or a nix-daemon; whether the
//! daemon trusts this user (asked of Nix where it can say, else estimated from the system
//! configuration as the daemon decides it, see [`trust`]); which Nix it is; whether NixOS or
//! nix-darwin manages the system configuration; and so which netrc counts for binary caches.
//!
//! On a multi-user install the daemon substitutes. It applies the settings the client forwards
//! (the user's files, `NIX_CONFIG`) only for a trusted user, so a trusted user's own `netrc-file`
//! replaces the system's for that user's downloads (nothing is merged; Nix 2.34.0 alone ignored
//! it), while an untrusted user's caches are read with the system configuration's netrc. A
//! single-user install (or root, whose `nix` opens the store itself) substitutes in the user's own
//! process, with the netrc the user's configuration names (REFERENCE.md §2, "The daemon's trust").

mod ask;
mod destination;
mod summary;
pub mod trust;

use std::path::{Path, PathBuf};

use super::nix_version::NixVersion;
use super::paths::Layout;
use super::view;
use crate::error::Result;
pub use destination::{Destination, Sink};
pub use trust::Verdict;

/// How Nix is installed here, as far as credentials go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// A nix-daemon substitutes (a multi-user install).
    pub daemon: bool,
    /// The netrc the process that substitutes reads for this user's downloads.
    pub netrc: PathBuf,
    /// The system configuration's netrc (its `netrc-file`, else `$NIX_CONF_DIR/netrc`).
    pub system_netrc: PathBuf,
    /// The `netrc-file` the user's own configuration sets, if it sets one.
    pub user_netrc: Option<PathBuf>,
    pub trust: Trust,
    /// What `nix --version` said, when nix-tokens asked.
    pub nix: Option<NixVersion>,
    pub managed: Option<Manager>,
    /// `$NIX_CONF_DIR/nix.conf`.
    pub system_conf: PathBuf,
    /// The user's nix.conf nix-tokens edits (none with `--system`).
    pub user_conf: Option<PathBuf>,
}

/// Whether the process that substitutes applies this user's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// No daemon: the user's own Nix substitutes, with the user's settings.
    Own,
    /// The daemon's decision; `asked` when Nix said it, else estimated from the system
    /// configuration.
    Daemon { verdict: Verdict, asked: bool },
    /// Nix could not say and the system configuration cannot be read: why.
    Unknown(String),
}

/// What manages the system configuration (its nix.conf is a link into the Nix store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    NixOs,
    NixDarwin,
}

/// Whether a nix-daemon serves this user: `NIX_REMOTE=daemon` (or a `unix://` socket), else no
/// `NIX_REMOTE` at all and the daemon's socket exists, unless the store is the caller's own to
/// write (root, whose `nix` then opens it directly).
pub fn uses_daemon() -> bool {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(remote) = var("NIX_REMOTE") {
        let remote = remote.to_string_lossy();
        return remote == "daemon" || remote.starts_with("unix://");
    }
    let state = var("NIX_STATE_DIR").map_or_else(|| PathBuf::from("/nix/var/nix"), PathBuf::from);
    let socket = var("NIX_DAEMON_SOCKET_PATH")
        .map_or_else(|| state.join("daemon-socket/socket"), PathBuf::from);
    socket.exists() && !writable(&state)
}

/// Whether this process may write `dir` (as Nix checks its state directory).
fn writable(dir: &Path) -> bool {
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok()
}

impl Install {
    /// This machine's install, for the configuration in `layout`. `ask` lets nix-tokens run
    /// `nix` (with a time limit) for what only Nix can say; without it nothing is run and the
    /// daemon's trust is estimated.
    pub fn detect(layout: &Layout, ask: bool) -> Result<Self> {
        let settings = view::settings_in_order(&layout.nix_read_order())?;
        Install::with(layout, ask, &settings)
    }

    /// The same, from `settings` when the caller has read them already (what Nix applies, from
    /// [`view::settings_in_order`]).
    pub fn with(layout: &Layout, ask: bool, settings: &[view::Setting]) -> Result<Self> {
        let system_conf = layout.system_dir.join("nix.conf");
        let (system_netrc, system) = view::system_netrc(&layout.system_dir)?;
        // The user's own settings: everything but the system file's (and what it includes).
        let system_files: Vec<&PathBuf> = system.iter().map(|s| &s.file).collect();
        let user_netrc = settings
            .iter()
            .rev()
            .filter(|s| !system_files.contains(&&s.file))
            .find(|s| s.name == "netrc-file")
            .map(|s| PathBuf::from(&s.value));
        let daemon = uses_daemon();
        // `nix --version` costs a process: only where the answer changes something.
        let nix = (ask && daemon)
            .then(super::nix_version::installed)
            .flatten();
        let trust = if daemon {
            daemon_trust(&system_conf, &system, nix.as_ref())
        } else {
            Trust::Own
        };
        let mut install = Install {
            daemon,
            netrc: system_netrc.clone(),
            system_netrc,
            user_netrc,
            trust,
            nix,
            managed: managed(&system_conf, &layout.store_dir),
            system_conf,
            user_conf: (!layout.system).then(|| layout.nix_conf.clone()),
        };
        if install.reads_user_settings()
            && !install.ignores_user_netrc()
            && let Some(own) = &install.user_netrc
        {
            install.netrc = own.clone();
        }
        Ok(install)
    }

    /// Whether the process that substitutes applies the user's own settings (`netrc-file`,
    /// `substituters`): single-user, or a daemon that trusts this user.
    pub fn reads_user_settings(&self) -> bool {
        matches!(
            self.trust,
            Trust::Own
                | Trust::Daemon {
                    verdict: Verdict::Trusted,
                    ..
                }
        )
    }

    /// An install for tests: single-user, or a daemon that does not trust this user.
    #[cfg(test)]
    pub fn example(daemon: bool, netrc: PathBuf) -> Self {
        let trust = if daemon {
            Trust::Daemon {
                verdict: Verdict::Untrusted,
                asked: false,
            }
        } else {
            Trust::Own
        };
        Install {
            daemon,
            netrc: netrc.clone(),
            system_netrc: netrc,
            user_netrc: None,
            trust,
            nix: None,
            managed: None,
            system_conf: PathBuf::from("/etc/nix/nix.conf"),
            user_conf: None,
        }
    }

    /// Nix 2.34.0's daemon dropped a trusted user's `netrc-file` (fixed in 2.34.1).
    pub fn ignores_user_netrc(&self) -> bool {
        self.daemon && self.nix.as_ref().is_some_and(|v| v.version == "2.34.0")
    }

    /// Determinate Nix (`nix (Determinate Nix A.B.C) 2.X.Y`): its installer and determinate-nixd
    /// manage `/etc/nix/nix.conf` and the netrc it names. `src/nixconf/determinate.rs` decides
    /// where system settings and credentials go on such an install; everything else here holds
    /// for it as for upstream Nix.
    pub fn determinate(&self) -> bool {
        let text = crate::nixconf::seen::read_text(&self.system_conf)
            .ok()
            .flatten();
        super::determinate::is_determinate(text.as_deref(), || self.nix.clone())
    }
}

/// The daemon's trust: Nix's answer where it gives one, else the system configuration's, else
/// why it is not known.
fn daemon_trust(system_conf: &Path, system: &[view::Setting], nix: Option<&NixVersion>) -> Trust {
    if let Some(trusted) = nix.and_then(ask::trusted) {
        let verdict = if trusted {
            Verdict::Trusted
        } else {
            Verdict::Untrusted
        };
        return Trust::Daemon {
            verdict,
            asked: true,
        };
    }
    if let Ok(crate::nixconf::seen::Read::Unreadable(e)) = crate::nixconf::seen::read(system_conf)
        && e.kind() == std::io::ErrorKind::PermissionDenied
    {
        return Trust::Unknown(format!(
            "{} cannot be read (permission denied), so whether the nix-daemon trusts this user is not known",
            system_conf.display()
        ));
    }
    Trust::Daemon {
        verdict: trust::Lists::from_settings(system).verdict(&trust::this_user()),
        asked: false,
    }
}

/// NixOS or nix-darwin, when the system nix.conf is a link into the Nix store.
fn managed(system_conf: &Path, store_dir: &Path) -> Option<Manager> {
    std::fs::read_link(system_conf).ok()?;
    let target = std::fs::canonicalize(system_conf).ok()?;
    let store = std::fs::canonicalize(store_dir).unwrap_or_else(|_| store_dir.to_path_buf());
    if !target.starts_with(&store) && !target.starts_with(store_dir) {
        return None;
    }
    Some(if cfg!(target_os = "macos") {
        Manager::NixDarwin
    } else {
        Manager::NixOs
    })
}
