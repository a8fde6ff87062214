//! Whether nix.conf may be edited: a link into the Nix store (home-manager, NixOS) or a file nobody
//! may write is left alone, and a symbolic link elsewhere (a dotfiles repository) is edited
//! through the link. The token file, the netrc and the other files a session writes are left
//! alone in the store too, with the module option that makes them named.

use std::fs;
use std::path::{Path, PathBuf};

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
    let store = store_dir(layout);
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
    let writable = mode & 0o222 != 0 && is_writable(&real_path);
    Ok(if writable {
        NixConfAccess::Writable { real_path, mode }
    } else {
        NixConfAccess::ReadOnly {
            why: format!("{} is read-only", path.display()),
        }
    })
}

/// The Nix store, with its links resolved.
fn store_dir(layout: &Layout) -> PathBuf {
    fs::canonicalize(&layout.store_dir).unwrap_or(layout.store_dir.clone())
}

/// Why the file `path` (as a session names it) must not be written: it is in the Nix store or
/// a link into it. One sentence naming the module option that makes it.
pub(super) fn store_managed(layout: &Layout, path: &Path) -> Option<String> {
    let store = store_dir(layout);
    let real = fs::canonicalize(path).ok()?;
    if !real.starts_with(&store) {
        return None;
    }
    let how = if path.starts_with(&store) {
        "a file in the Nix store".to_owned()
    } else {
        format!("a link into {}", store.display())
    };
    Some(format!(
        "{} is managed by Nix ({how}), so nix-tokens will not change it; {}",
        path.display(),
        owner_hint(path)
    ))
}

/// Which module option makes a store-managed file appear at `path`, and what to do about it.
fn owner_hint(path: &Path) -> String {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = var("HOME");
    let config = var("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
    let under = |dir: &Option<PathBuf>| {
        dir.as_ref()
            .and_then(|d| path.strip_prefix(d).ok())
            .map(|rel| rel.display().to_string())
    };
    let option = if let Some(rel) = under(&config) {
        format!("home-manager's `xdg.configFile.\"{rel}\"`")
    } else if let Some(rel) = under(&home) {
        format!("home-manager's `home.file.\"{rel}\"`")
    } else if let Ok(rel) = path.strip_prefix("/etc") {
        format!("the system's `environment.etc.\"{}\"`", rel.display())
    } else {
        return "change the configuration that names it (a `netrc-file` setting), or remove that setting to let nix-tokens keep its own file".to_owned();
    };
    format!(
        "it comes from {option}: remove that option to let nix-tokens keep the file, or put the token there yourself"
    )
}

/// Whether this process (its effective user) may write `path`, asked of the kernel without
/// opening it (a read-only mount answers no).
fn is_writable(path: &Path) -> bool {
    use rustix::fs::{Access, AtFlags, CWD, accessat};
    accessat(CWD, path, Access::WRITE_OK, AtFlags::EACCESS).is_ok()
}
