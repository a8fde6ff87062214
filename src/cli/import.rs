//! `sudo nix-tokens --system import --from-user NAME`: copy a user's logins into root's own files
//! (see [`crate::ops::import`]), so that root's rebuilds fetch with the same tokens.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::ops::import::{self, ImportPlan, UserIds};

/// Where user names are looked up.
const PASSWD: &str = "/etc/passwd";

#[derive(Debug, Args)]
#[command(
    after_long_help = "Run it as root after the user's `nix-tokens login`, and again after each new login:\n\
        \x20 sudo nix-tokens --system import --from-user alice\n\n\
        Only token lines are copied (access-tokens entries, and the netrc entries of the hosts the user \
        logged in to), into root's own files beside the system nix.conf.\n\n\
        Example: nix-tokens import --system --from-user alice"
)]
pub struct ImportArgs {
    /// The user whose logins root should use (their ~/.config/nix, from the password database)
    #[arg(long, value_name = "NAME", required_unless_present = "from_config")]
    pub from_user: Option<String>,
    /// The user's nix.conf, when it is not ~/.config/nix/nix.conf (its token file, netrc and
    /// host facts are read beside it)
    #[arg(long, value_name = "PATH", conflicts_with = "from_user")]
    pub from_config: Option<PathBuf>,
    /// Show what would change without writing anything
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

pub fn run(ctx: &Context, args: ImportArgs) -> Result<ExitCode> {
    let passwd = match &args.from_user {
        Some(_) => crate::nixconf::fsio::read_optional(Path::new(PASSWD))?.unwrap_or_default(),
        None => String::new(),
    };
    let plan = plan(&args, ctx.layout.system, &passwd)?;
    import::run(ctx, &plan)?;
    Ok(ExitCode::from(exit::OK))
}

/// The options as a plan: whose files, found where. Only `--system` makes sense: the point is
/// root's own configuration.
fn plan(args: &ImportArgs, system: bool, passwd: &str) -> Result<ImportPlan> {
    if !system {
        return Err(Error::usage(
            "import copies a user's logins into the system configuration, which root's rebuilds read: run `sudo nix-tokens --system import --from-user NAME`",
        ));
    }
    let (who, from, user) = match (&args.from_user, &args.from_config) {
        (_, Some(path)) => (path.display().to_string(), path.clone(), None),
        (Some(name), None) => {
            let (home, user) = home_of(passwd, name).ok_or_else(|| {
                Error::usage(format!(
                    "there is no user {name} in {PASSWD}; give the user's nix.conf with --from-config PATH instead"
                ))
            })?;
            (name.clone(), home.join(".config/nix/nix.conf"), Some(user))
        }
        (None, None) => return Err(Error::usage("name the user with --from-user NAME")),
    };
    if who == "root" {
        return Err(Error::usage(
            "root's logins are already root's; name the user whose logins root should use",
        ));
    }
    Ok(ImportPlan {
        who,
        from,
        user,
        dry_run: args.dry_run,
    })
}

/// The home directory and ids of `name` in the password database's text
/// (`name:x:uid:gid:gecos:home:shell`).
fn home_of(passwd: &str, name: &str) -> Option<(PathBuf, UserIds)> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 7 || fields[0] != name || !fields[5].starts_with('/') {
            return None;
        }
        let user = UserIds {
            uid: fields[2].parse().ok()?,
            gid: fields[3].parse().ok()?,
        };
        Some((PathBuf::from(fields[5]), user))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        alice:x:1000:100:Alice,,,:/home/alice:/bin/bash\n\
        broken:x:1001\n";

    fn args(user: Option<&str>, config: Option<&str>) -> ImportArgs {
        ImportArgs {
            from_user: user.map(str::to_owned),
            from_config: config.map(PathBuf::from),
            dry_run: false,
        }
    }

    #[test]
    fn a_user_name_is_their_home_config() {
        let p = plan(&args(Some("alice"), None), true, PASSWD).unwrap();
        assert_eq!(p.who, "alice");
        assert_eq!(p.from, PathBuf::from("/home/alice/.config/nix/nix.conf"));
        assert_eq!(
            p.user,
            Some(UserIds {
                uid: 1000,
                gid: 100
            })
        );
        let p = plan(&args(None, Some("/srv/a/nix.conf")), true, PASSWD).unwrap();
        assert_eq!(p.from, PathBuf::from("/srv/a/nix.conf"));
        assert_eq!(
            p.user, None,
            "the owner of its directory, found when it is read"
        );
    }

    #[test]
    fn refuses_without_system_unknown_users_and_root() {
        let err = |a: &ImportArgs, system| plan(a, system, PASSWD).unwrap_err().to_string();
        assert!(err(&args(Some("alice"), None), false).contains("sudo nix-tokens --system import"));
        assert!(err(&args(Some("bob"), None), true).contains("no user bob"));
        assert!(err(&args(Some("broken"), None), true).contains("no user broken"));
        assert!(err(&args(Some("root"), None), true).contains("already root's"));
    }
}
