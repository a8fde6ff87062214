//! Reading a user's files with that user's own permissions. Root may read every file, so a user
//! who links her netrc to another user's, or to a file only root may read, would otherwise have
//! root copy it for her. The files are opened in a thread of their own that holds only the user's
//! identity (uid, gid, no other group, and so none of root's capabilities): a link to a file she
//! could not read fails there exactly as it would for her. The rest of the process stays root.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::process::{Gid, Uid};
use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};

use crate::error::{Error, Result};

/// Whose files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserIds {
    pub uid: u32,
    pub gid: u32,
}

impl UserIds {
    /// The owner of `dir` (the user whose nix.conf `--from-config` names); `None` when it does not
    /// exist.
    pub fn owner_of(dir: &Path) -> Option<UserIds> {
        let meta = std::fs::metadata(dir).ok()?;
        Some(UserIds {
            uid: meta.uid(),
            gid: meta.gid(),
        })
    }
}

/// Runs `read` as `user`: in a thread holding only the user's identity when this process is root
/// and the user is not; as this process otherwise (it then has no more right than it has).
pub fn run_as<T: Send>(user: UserIds, read: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    if !rustix::process::geteuid().is_root() || user.uid == 0 {
        return read();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                become_user(user)?;
                read()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(Error::failed(
                    "reading the user's files stopped unexpectedly",
                ))
            })
    })
}

/// Gives the calling thread, and it alone (the kernel keeps credentials per thread; these calls
/// do not spread them to the process), the identity of `user`. Dropping root's uid drops its
/// capabilities with it.
fn become_user(user: UserIds) -> Result<()> {
    let gid = Gid::from_raw(user.gid);
    let uid = Uid::from_raw(user.uid);
    set_thread_groups(&[gid])
        .and_then(|()| set_thread_res_gid(gid, gid, gid))
        .and_then(|()| set_thread_res_uid(uid, uid, uid))
        .map_err(|e| {
            Error::failed(format!(
                "could not take the identity of uid {} to read that user's files ({e}); nothing was imported",
                user.uid
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_alone_takes_the_users_identity() {
        let me = rustix::process::geteuid();
        let nobody = UserIds {
            uid: 65534,
            gid: 65534,
        };
        let seen = run_as(nobody, || Ok(rustix::process::geteuid().as_raw())).unwrap();
        if me.is_root() {
            assert_eq!(seen, 65534);
        } else {
            assert_eq!(seen, me.as_raw(), "without root, nothing changes");
        }
        assert_eq!(
            rustix::process::geteuid(),
            me,
            "the process keeps its identity"
        );
    }
}
