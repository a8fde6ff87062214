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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::nixconf::nix_version;

    #[test]
    fn one_line_and_the_json_say_who_substitutes_with_whose_settings() {
        let mut install = Install::example(true, PathBuf::from("/etc/nix/netrc"));
        install.user_conf = Some(PathBuf::from("/home/me/.config/nix/nix.conf"));
        let line = install.line();
        assert_eq!(
            line,
            "Install: Nix, multi-user: the nix-daemon does not trust this user (it ignores this user's netrc and substituters), estimated from /etc/nix/nix.conf; system configuration /etc/nix/nix.conf; user configuration /home/me/.config/nix/nix.conf; binary caches read /etc/nix/netrc"
        );
        let json = serde_json::to_value(install.summary()).unwrap();
        assert_eq!(json["kind"], "multi-user");
        assert_eq!(json["trusted"], false);
        assert_eq!(json["trust_from"], "estimated");
        assert_eq!(json["implementation"], serde_json::Value::Null);

        install.trust = Trust::Daemon {
            verdict: Verdict::Trusted,
            asked: true,
        };
        install.nix = nix_version::parse("nix (Determinate Nix 3.6.2) 2.29.0");
        let line = install.line();
        assert!(line.starts_with("Install: Determinate Nix 3.6.2 (Nix 2.29.0), multi-user: the nix-daemon trusts this user (it applies this user's settings), Nix says so;"), "{line}");
        assert!(
            line.contains("/etc/nix/nix.conf (managed by Determinate Nix)"),
            "{line}"
        );
        install.managed = Some(Manager::NixDarwin);
        assert!(install.line().contains("(managed by nix-darwin)"));
        let json = serde_json::to_value(install.summary()).unwrap();
        assert_eq!(json["trust_from"], "nix");
        assert_eq!(json["managed_by"], "nix-darwin");

        install.trust = Trust::Unknown("/etc/nix/nix.conf cannot be read".into());
        assert!(
            install
                .line()
                .contains("multi-user: /etc/nix/nix.conf cannot be read")
        );
        assert_eq!(
            serde_json::to_value(install.summary()).unwrap()["trusted"],
            serde_json::Value::Null
        );

        let single = Install::example(false, PathBuf::from("/home/me/.config/nix/netrc"));
        assert!(
            single
                .line()
                .starts_with("Install: Nix, single-user: Nix downloads with this user's settings")
        );
        assert_eq!(
            serde_json::to_value(single.summary()).unwrap()["trust_from"],
            "own"
        );
    }
}
