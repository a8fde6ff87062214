//! Which process downloads from binary caches, and so which netrc counts for them.
//!
//! On a multi-user install the nix-daemon substitutes, with the system configuration: its
//! `netrc-file` (default `$NIX_CONF_DIR/netrc`) is the only netrc read for binary caches, whatever
//! a user's nix.conf says. A single-user install (or root, whose `nix` opens the store itself)
//! substitutes in the user's own process, with the netrc the user's configuration names.

use std::path::{Path, PathBuf};

use super::paths::Layout;
use super::view;
use crate::error::Result;

/// How Nix is installed here, as far as binary caches go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// A nix-daemon substitutes (a multi-user install).
    pub daemon: bool,
    /// The netrc the process that substitutes reads.
    pub netrc: PathBuf,
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
    /// This machine's install, for the configuration in `layout`.
    pub fn detect(layout: &Layout) -> Result<Self> {
        Install::with(layout, None)
    }

    /// The same, from `settings` when the caller has read them already (what Nix applies, from
    /// [`view::settings_in_order`]).
    pub fn with(layout: &Layout, settings: Option<&[view::Setting]>) -> Result<Self> {
        let daemon = uses_daemon();
        let netrc = match (daemon, settings) {
            (true, _) => system_netrc(layout)?,
            (false, Some(settings)) => view::netrc_file(settings, &layout.system_dir),
            (false, None) => {
                let settings = view::settings_in_order(&layout.nix_read_order())?;
                view::netrc_file(&settings, &layout.system_dir)
            }
        };
        Ok(Install { daemon, netrc })
    }
}

/// The netrc the system configuration names (its last `netrc-file`), else `$NIX_CONF_DIR/netrc`.
pub fn system_netrc(layout: &Layout) -> Result<PathBuf> {
    let settings = view::file_settings(&[layout.system_dir.join("nix.conf")])?;
    Ok(view::netrc_file(&settings, &layout.system_dir))
}
