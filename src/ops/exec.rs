//! `nix-tokens exec -- COMMAND…`: one command whose Nix sees the keyring store's tokens, through
//! a private copy in the runtime directory that `NIX_CONFIG` includes (`!include PATH` appended
//! to what `NIX_CONFIG` held), removed when the command ends — also when SIGINT or SIGTERM ends
//! it: nix-tokens passes the signal on, waits for the command, then removes the copy. The token
//! is never in an argument nor in `NIX_CONFIG`'s text.

use std::ffi::OsString;
use std::process::ExitCode;

use super::keyring_store::write_copies;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::nixconf::runtime::RuntimeDir;
use crate::nixconf::vault::{self, StoreKind, Vault};

/// Runs `command` with the keyring store's tokens visible to its Nix; its exit code.
pub fn exec(ctx: &Context, command: &[OsString]) -> Result<ExitCode> {
    let state = vault::read_state(&ctx.layout)?;
    if state.store != StoreKind::Keyring {
        return Err(Error::usage(format!(
            "{} keeps its tokens in files, which Nix reads already; run the command without `nix-tokens exec`",
            ctx.layout.nix_conf.display()
        )));
    }
    let vault = Vault::load(&ctx.layout)?;
    let base = RuntimeDir::find()?;
    let private = tempfile::Builder::new()
        .prefix("exec-")
        .tempdir_in(&base.dir)
        .map_err(|e| Error::io("create a private directory in", &base.dir, &e))?;
    let copy = RuntimeDir {
        dir: private.path().to_path_buf(),
    };
    write_copies(&copy, &vault, &state)?;
    let mut nix_config = std::env::var("NIX_CONFIG").unwrap_or_default();
    if !nix_config.is_empty() && !nix_config.ends_with('\n') {
        nix_config.push('\n');
    }
    nix_config.push_str(&format!("!include {}\n", copy.access_tokens().display()));
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::usage("name the command to run: `nix-tokens exec -- COMMAND…`"))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).env("NIX_CONFIG", nix_config);
    let status = run(cmd, program);
    // The copy goes whatever happened to the command.
    drop(private);
    let status = status?;
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Runs the command to its end, passing SIGINT and SIGTERM on to it.
fn run(mut cmd: tokio::process::Command, program: &OsString) -> Result<std::process::ExitStatus> {
    use tokio::signal::unix::{SignalKind, signal};
    let name = program.to_string_lossy().into_owned();
    let rt = crate::http::runtime()?;
    rt.block_on(async move {
        let failed = |e: std::io::Error| Error::failed(format!("could not run {name}: {e}"));
        let mut interrupt = signal(SignalKind::interrupt()).map_err(failed)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(failed)?;
        let mut child = cmd.spawn().map_err(failed)?;
        let pass_on = |pid: Option<u32>, sig: rustix::process::Signal| {
            if let Some(pid) = pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                let _ = rustix::process::kill_process(pid, sig);
            }
        };
        loop {
            tokio::select! {
                status = child.wait() => return status.map_err(failed),
                _ = interrupt.recv() => pass_on(child.id(), rustix::process::Signal::INT),
                _ = terminate.recv() => pass_on(child.id(), rustix::process::Signal::TERM),
            }
        }
    })
}
