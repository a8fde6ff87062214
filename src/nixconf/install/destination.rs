//! Where a credential goes, as this install reads it: the one answer that `save` (through
//! `check_cache_destination`), `status`'s daemon notes and the carrying of cache credentials ask.
//!
//! Nix's fetchers run in the user's own `nix` process, so a forge's token reaches them from the
//! user's files on every install. Binary caches are read by the process that substitutes: on a
//! daemon install the daemon, which reads a user's own netrc only when it trusts that user (and
//! Nix 2.34.0's did not even then); otherwise only the system's netrc counts, which `--system`
//! writes.

use std::path::PathBuf;

use serde::Deserialize;

use super::{Install, Trust, Verdict};

/// Where Nix reads a host's token from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sink {
    /// The `access-tokens` setting, read by Nix's `github:`, `gitlab:` and `sourcehut:` fetchers.
    AccessTokens,
    /// A netrc entry, read by every curl download Nix makes.
    Netrc,
}

/// Where a credential written for this user reaches the process that sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The file nix-tokens edits (the user's, or the system's with `--system`) is read.
    Edited(Sink),
    /// Only the system's netrc counts for binary caches, and why: the credential must be written
    /// there with `--system`.
    SystemNetrc { netrc: PathBuf, why: String },
}

impl Install {
    /// Where a credential of `sink` goes, for a binary cache when `cache`, when nix-tokens edits
    /// the system configuration when `system`.
    pub fn destination(&self, sink: Sink, cache: bool, system: bool) -> Destination {
        if !cache || !self.daemon || system {
            return Destination::Edited(sink);
        }
        let why = match &self.trust {
            _ if self.ignores_user_netrc() => {
                "Nix 2.34.0's daemon ignores a trusted user's own netrc-file (fixed in 2.34.1)"
                    .to_owned()
            }
            Trust::Own
            | Trust::Daemon {
                verdict: Verdict::Trusted,
                ..
            } => return Destination::Edited(sink),
            Trust::Daemon { verdict, asked } => {
                let from = if *asked {
                    "Nix says so".to_owned()
                } else {
                    format!("estimated from {}", self.system_conf.display())
                };
                match verdict {
                    Verdict::NotAllowed => {
                        format!(
                            "the nix-daemon does not let this user connect (allowed-users; {from})"
                        )
                    }
                    _ => format!(
                        "the nix-daemon does not trust this user ({from}), so it ignores this user's own netrc; a user in its trusted-users may log in without --system"
                    ),
                }
            }
            Trust::Unknown(why) => why.clone(),
        };
        Destination::SystemNetrc {
            netrc: self.system_netrc.clone(),
            why,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_credential_of_an_untrusted_user_goes_to_the_system_netrc() {
        let netrc = PathBuf::from("/etc/nix/netrc");
        let untrusted = Install::example(true, netrc.clone());
        let edited = Destination::Edited(Sink::Netrc);
        assert_eq!(untrusted.destination(Sink::Netrc, false, false), edited);
        assert_eq!(untrusted.destination(Sink::Netrc, true, true), edited);
        match untrusted.destination(Sink::Netrc, true, false) {
            Destination::SystemNetrc { netrc: n, why } => {
                assert_eq!(n, netrc);
                assert!(why.contains("does not trust this user"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        let single = Install::example(false, netrc);
        assert_eq!(single.destination(Sink::Netrc, true, false), edited);
    }
}
