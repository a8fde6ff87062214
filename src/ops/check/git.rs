//! `git ls-remote` of a git input, as the git Nix runs would fetch it, for a host whose kind (and
//! so whose API) nix-tokens does not know: first with no credential at all (a public repository
//! answers), then, when the server asks for one and git's configuration names nix-tokens' helper
//! for the URL, with that helper alone. No other helper is run (one could open a window or ask
//! for a password), git never prompts, and git is stopped after a timeout.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Url;

use crate::providers::shared::{RepoAccess, RepoAnswer};
use crate::ui::printable;

/// How long one question may take, all its requests (or git) included.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// `git ls-remote` of `url`, with nix-tokens' helper as git's configuration names it, if it does.
#[derive(Clone)]
pub struct GitAsk {
    pub url: Url,
    pub helper: Option<String>,
    pub use_http_path: bool,
}

/// What one run of git came to.
enum Run {
    Read,
    /// The server asked for credentials, or refused the ones git sent.
    Auth(String),
    NotFound,
    Failed(String),
}

/// Whether `ask`'s repository can be read anonymously, or else through nix-tokens' helper.
pub async fn ls_remote(ask: &GitAsk) -> RepoAnswer {
    let access = match run(ask, false).await {
        Run::Read => RepoAccess::Public,
        Run::Auth(_) if ask.helper.is_some() => match run(ask, true).await {
            Run::Read => RepoAccess::Private,
            Run::Auth(why) => RepoAccess::Refused(why),
            Run::NotFound => RepoAccess::Hidden,
            Run::Failed(why) => RepoAccess::Unreachable(why),
        },
        Run::Auth(_) | Run::NotFound => RepoAccess::Hidden,
        Run::Failed(why) => RepoAccess::Unreachable(why),
    };
    access.into()
}

async fn run(ask: &GitAsk, with_helper: bool) -> Run {
    let mut cmd = Command::new("git");
    // An empty helper drops every helper git's files name; nix-tokens' own comes after it.
    cmd.args(["-c", "credential.helper=", "-c", "core.askPass="]);
    if let (true, Some(helper)) = (with_helper, &ask.helper) {
        cmd.arg("-c").arg(format!("credential.helper={helper}"));
        if ask.use_http_path {
            cmd.args(["-c", "credential.useHttpPath=true"]);
        }
    }
    cmd.args(["ls-remote", "--", ask.url.as_str(), "HEAD"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let password = ask.url.password().map(str::to_owned);
    let outcome = tokio::task::spawn_blocking(move || wait(cmd)).await;
    let (ok, said) = match outcome {
        Ok(Ok(done)) => done,
        Ok(Err(why)) => return Run::Failed(why),
        Err(_) => return Run::Failed("git stopped unexpectedly".into()),
    };
    // A password written into the URL must not come back in a message.
    let said = match password {
        Some(p) if !p.is_empty() => said.replace(&p, "****"),
        _ => said,
    };
    if ok {
        return Run::Read;
    }
    classify(&said)
}

/// Runs `cmd` until it exits or the time is up; whether it succeeded and what it said on stderr.
fn wait(mut cmd: Command) -> Result<(bool, String), String> {
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not run git ({e})"))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.by_ref().take(64 * 1024).read_to_end(&mut text);
        text
    });
    let deadline = Instant::now() + TIMEOUT - Duration::from_secs(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "git ls-remote did not finish within {} seconds",
                    TIMEOUT.as_secs() - 1
                ));
            }
        }
    };
    let said = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    Ok((status.success(), said))
}

/// What git's message on stderr means.
fn classify(said: &str) -> Run {
    let lower = said.to_lowercase();
    let line = said
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(|l| printable(l).chars().take(160).collect::<String>())
        .unwrap_or_else(|| "git ls-remote failed".to_owned());
    let auth = [
        "authentication failed",
        "could not read username",
        "could not read password",
        "terminal prompts disabled",
        "returned error: 401",
        "returned error: 403",
    ];
    if auth.iter().any(|a| lower.contains(a)) {
        Run::Auth(line)
    } else if lower.contains("not found") || lower.contains("returned error: 404") {
        Run::NotFound
    } else {
        Run::Failed(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_messages_mean_what_they_say() {
        let auth = "fatal: could not read Username for 'https://h': terminal prompts disabled\n";
        assert!(matches!(classify(auth), Run::Auth(l) if l.starts_with("fatal: could not read")));
        let refused = "remote: Invalid username or password.\nfatal: Authentication failed for 'https://h/o/r.git/'\n";
        assert!(matches!(classify(refused), Run::Auth(l) if l.contains("Authentication failed")));
        let missing =
            "remote: Repository not found.\nfatal: repository 'https://h/o/x.git/' not found\n";
        assert!(matches!(classify(missing), Run::NotFound));
        let down = "fatal: unable to access 'https://h/': Could not resolve host: h\n";
        assert!(matches!(classify(down), Run::Failed(l) if l.contains("Could not resolve host")));
        assert!(matches!(classify(""), Run::Failed(l) if l == "git ls-remote failed"));
    }
}
