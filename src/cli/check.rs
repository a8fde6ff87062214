//! `nix-tokens check [PATH]`: whether Nix will be able to fetch each input of a flake (see
//! [`crate::ops::check`]). The exit code tells scripts whether every input can be fetched, as
//! `status`'s does for tokens.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::ops::check::{self, CheckPlan};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A flake's directory, or its flake.lock
    #[arg(default_value = ".", value_name = "PATH")]
    pub path: PathBuf,
    /// Do not contact any server; list the credential Nix will send for each input
    #[arg(long)]
    pub offline: bool,
    /// Print one JSON document (an array of objects) instead of a table
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: CheckArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let plan = plan(&args, args.path.is_dir());
    Ok(ExitCode::from(check::run(ctx, &registry, &plan)?))
}

/// The options as a plan: a directory means its flake.lock, and so does its flake.nix.
fn plan(args: &CheckArgs, is_dir: bool) -> CheckPlan {
    let path: &Path = &args.path;
    let lock = if is_dir {
        path.join("flake.lock")
    } else if path.file_name().is_some_and(|n| n == "flake.nix") {
        path.with_file_name("flake.lock")
    } else {
        path.to_path_buf()
    };
    CheckPlan {
        lock,
        offline: args.offline,
        json: args.json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_of(path: &str, is_dir: bool) -> PathBuf {
        let args = CheckArgs {
            path: path.into(),
            offline: true,
            json: false,
        };
        let planned = plan(&args, is_dir);
        assert!(planned.offline && !planned.json);
        planned.lock
    }

    #[test]
    fn a_directory_or_its_files_mean_its_lock() {
        assert_eq!(lock_of(".", true), PathBuf::from("./flake.lock"));
        assert_eq!(
            lock_of("/src/app", true),
            PathBuf::from("/src/app/flake.lock")
        );
        assert_eq!(
            lock_of("/src/app/flake.nix", false),
            PathBuf::from("/src/app/flake.lock")
        );
        assert_eq!(
            lock_of("/src/app/flake.lock", false),
            PathBuf::from("/src/app/flake.lock")
        );
        assert_eq!(
            lock_of("/tmp/other.lock", false),
            PathBuf::from("/tmp/other.lock")
        );
    }
}
