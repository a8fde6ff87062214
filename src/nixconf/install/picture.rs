//! The install as `status` shows it: one line at the top of its output, and the `install`
//! object of `--json` (keys documented in the README).

use std::path::PathBuf;

use serde::Serialize;

use super::{Install, Manager, Trust, Verdict};

/// The install in `status --json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `single-user` or `multi-user`.
    pub kind: &'static str,
    /// `Nix 2.8.0`, `Determinate Nix 3.6.2 (Nix 2.29.0)`, `Lix 2.93.0`; `null` when not asked.
    pub implementation: Option<String>,
    pub daemon: bool,
    /// Whether the daemon applies this user's settings; `null` when not known (and always
    /// `true` without a daemon: the user's own Nix substitutes).
    pub trusted: Option<bool>,
    /// `nix` (Nix said so), `estimated` (from the system configuration), `unknown`, or `own`
    /// (no daemon).
    pub trust_from: &'static str,
    /// `NixOS` or `nix-darwin` when one manages the system configuration.
    pub managed_by: Option<&'static str>,
    pub system_configuration: PathBuf,
    pub user_configuration: Option<PathBuf>,
    /// The netrc the process that downloads from binary caches reads for this user.
    pub cache_netrc: PathBuf,
}

impl Manager {
    pub fn name(self) -> &'static str {
        match self {
            Manager::NixOs => "NixOS",
            Manager::NixDarwin => "nix-darwin",
        }
    }
}

impl Install {
    /// The JSON picture.
    pub fn summary(&self) -> Summary {
        let (trusted, trust_from) = match &self.trust {
            Trust::Own => (Some(true), "own"),
            Trust::Daemon { verdict, asked } => (
                Some(*verdict == Verdict::Trusted),
                if *asked { "nix" } else { "estimated" },
            ),
            Trust::Unknown(_) => (None, "unknown"),
        };
        Summary {
            kind: if self.daemon {
                "multi-user"
            } else {
                "single-user"
            },
            implementation: self.nix.as_ref().map(|v| v.name()),
            daemon: self.daemon,
            trusted,
            trust_from,
            managed_by: self.managed.map(Manager::name),
            system_configuration: self.system_conf.clone(),
            user_configuration: self.user_conf.clone(),
            cache_netrc: self.netrc.clone(),
        }
    }

    /// One line: which install, who substitutes and with whose settings, and the files.
    pub fn line(&self) -> String {
        let nix = self.nix.as_ref().map_or("Nix".to_owned(), |v| v.name());
        let how = match &self.trust {
            Trust::Own => format!("{nix}, single-user: Nix downloads with this user's settings"),
            Trust::Daemon { verdict, asked } => {
                let from = if *asked {
                    "Nix says so".to_owned()
                } else {
                    format!("estimated from {}", self.system_conf.display())
                };
                let who = match verdict {
                    Verdict::Trusted => "trusts this user (it applies this user's settings)",
                    Verdict::Untrusted => {
                        "does not trust this user (it ignores this user's netrc and substituters)"
                    }
                    Verdict::NotAllowed => "does not let this user connect (allowed-users)",
                };
                format!("{nix}, multi-user: the nix-daemon {who}, {from}")
            }
            Trust::Unknown(why) => format!("{nix}, multi-user: {why}"),
        };
        let managed = match (self.managed, self.determinate()) {
            (Some(m), _) => format!(" (managed by {})", m.name()),
            (None, true) => " (managed by Determinate Nix)".to_owned(),
            (None, false) => String::new(),
        };
        let user = self
            .user_conf
            .as_ref()
            .map(|u| format!("; user configuration {}", u.display()))
            .unwrap_or_default();
        format!(
            "Install: {how}; system configuration {}{managed}{user}; binary caches read {}",
            self.system_conf.display(),
            self.netrc.display()
        )
    }
}
