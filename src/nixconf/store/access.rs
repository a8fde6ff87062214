//! Whether nix.conf may be edited: a link into the Nix store (home-manager, NixOS) or a file nobody
//! may write is left alone, and a symbolic link elsewhere (a dotfiles repository) is edited
//! through the link.

use std::fs;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::nixconf::fsio;
use crate::nixconf::paths::Layout;

/// Whether nix.conf may be changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NixConfAccess {
    /// It can be rewritten; `real_path` is the file to replace (the target, when nix.conf is a
    /// symlink outside the Nix store), `mode` the permissions to keep.
    Writable { real_path: PathBuf, mode: u32 },
    /// It does not exist yet and will be created.
    Missing,
    /// It must be left alone: a link into the Nix store, or a file nobody may write.
    ReadOnly { why: String },
}

/// Decides whether nix.conf may be edited, and which file a rewrite replaces.
pub fn nix_conf_access(layout: &Layout) -> Result<NixConfAccess> {
    let path = &layout.nix_conf;
    let meta = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(NixConfAccess::Missing),
        Err(e) => return Err(Error::io("inspect", path, &e)),
        Ok(m) => m,
    };
    let real_path = if meta.file_type().is_symlink() {
        fsio::write_target(path)?
    } else {
        path.clone()
    };
    let store = fs::canonicalize(&layout.store_dir).unwrap_or(layout.store_dir.clone());
    if real_path.starts_with(&store) {
        return Ok(NixConfAccess::ReadOnly {
            why: format!(
                "{} is managed by Nix (a link into {})",
                path.display(),
                store.display()
            ),
        });
    }
    let mode = fsio::mode_of(&real_path).unwrap_or(0o644);
    let writable =
        mode & 0o222 != 0 && fs::OpenOptions::new().append(true).open(&real_path).is_ok();
    Ok(if writable {
        NixConfAccess::Writable { real_path, mode }
    } else {
        NixConfAccess::ReadOnly {
            why: format!("{} is read-only", path.display()),
        }
    })
}
