//! The installed Nix, read from `nix --version`, for the one thing that depends on it here:
//! whether `access-tokens` keys such as `github.com/my-org` are used (REFERENCE.md §2).
//! - Upstream Nix (`nix (Nix) 2.X.Y`) matches the longest prefix of `HOST/OWNER/REPO` from 2.27
//!   on, byte for byte (so case matters); older versions match whole hosts only.
//! - Determinate Nix (`nix (Determinate Nix A.B.C) 2.X.Y`) carries upstream's fetchers: 2.X.Y is
//!   the upstream version it follows, and decides.
//! - Lix (`nix (Lix, like Nix) 2.9X.Y`) looks tokens up by the whole host in every version so
//!   far (`getAccessToken(host)` in `lix/libfetchers/github.cc`), whatever its number says.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The first upstream Nix that matches `host/path` keys.
pub const OWNER_KEYS_SINCE: (u32, u32) = (2, 27);

/// Which Nix it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Implementation {
    Nix,
    /// Determinate Nix, with its own version (`3.6.2`).
    Determinate(String),
    Lix,
    /// Anything else that prints `nix (NAME) VERSION`, judged by its version as upstream's.
    Other(String),
}

/// What `nix --version` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixVersion {
    pub implementation: Implementation,
    /// The version printed last (`2.29.0`): upstream's number for Nix and Determinate Nix.
    pub version: String,
    /// `(major, minor)` of `version`.
    pub number: (u32, u32),
}

/// Reads the first line of `nix --version` output, such as `nix (Nix) 2.8.0`,
/// `nix (Determinate Nix 3.6.2) 2.29.0` or `nix (Lix, like Nix) 2.93.0`.
pub fn parse(output: &str) -> Option<NixVersion> {
    let line = output.lines().next()?.trim();
    let version = line.split_whitespace().last()?.to_owned();
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let number = (major, minor.parse().ok()?);
    let name = line
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(name, _)| name.trim());
    let implementation = match name {
        Some("Nix") | None => Implementation::Nix,
        Some(name) if name.starts_with("Lix") => Implementation::Lix,
        Some(name) => match name.strip_prefix("Determinate Nix") {
            Some(own) => Implementation::Determinate(own.trim().to_owned()),
            None => Implementation::Other(name.to_owned()),
        },
    };
    Some(NixVersion {
        implementation,
        version,
        number,
    })
}

impl NixVersion {
    /// `Nix 2.8.0`, `Determinate Nix 3.6.2 (Nix 2.29.0)`, `Lix 2.93.0`.
    pub fn name(&self) -> String {
        match &self.implementation {
            Implementation::Nix => format!("Nix {}", self.version),
            Implementation::Determinate(own) => {
                format!("Determinate Nix {own} (Nix {})", self.version)
            }
            Implementation::Lix => format!("Lix {}", self.version),
            Implementation::Other(name) => format!("{name} {}", self.version),
        }
    }

    /// Whether this Nix uses `access-tokens` keys such as `github.com/my-org`.
    pub fn matches_owner_keys(&self) -> bool {
        match self.implementation {
            Implementation::Lix => false,
            _ => self.number >= OWNER_KEYS_SINCE,
        }
    }

    /// Whether this Nix's `github:` fetcher reaches a GitHub Enterprise Server at
    /// `https://HOST/api/v3`: from 2.9 on; 2.8 asks `https://api.HOST` for every host.
    pub fn reaches_github_enterprise(&self) -> bool {
        self.number >= (2, 9)
    }

    /// Why this Nix will not use the owner key `key`, or `None` when it will.
    pub fn owner_key_unused(&self, key: &str) -> Option<String> {
        if self.matches_owner_keys() {
            return None;
        }
        let name = self.name();
        let git = "git through `nix-tokens git-credential` uses it already";
        Some(match self.implementation {
            Implementation::Lix => format!(
                "the installed {name} matches access-tokens by whole host only (every Lix so far does), so it will not use the token for {key}; store the token for the host alone for Lix ({git})"
            ),
            Implementation::Determinate(_) => format!(
                "the installed {name} matches access-tokens by whole host only, so it will not use the token for {key}; Determinate Nix that follows Nix 2.27 or later matches the longest prefix ({git})"
            ),
            _ => format!(
                "the installed {name} matches access-tokens by whole host only, so it will not use the token for {key}; Nix 2.27 and later match the longest prefix ({git})"
            ),
        })
    }
}

/// How long one `nix` command may take before nix-tokens goes on without its answer.
const LIMIT: Duration = Duration::from_secs(5);

/// The installed Nix, when `nix --version` answers within [`LIMIT`]: the one place that asks,
/// once per run (every later call has the first answer).
pub fn installed() -> Option<NixVersion> {
    static ANSWER: OnceLock<Option<NixVersion>> = OnceLock::new();
    ANSWER
        .get_or_init(|| parse(&run_nix(&["--version"])?))
        .clone()
}

/// The standard output of `nix ARGS` when it succeeds within [`LIMIT`].
pub fn run_nix(args: &[&str]) -> Option<String> {
    let mut child = Command::new("nix")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    status.success().then_some(out)
}

/// A warning when the installed Nix does not use owner keys such as `key` (for `status`).
pub fn owner_key_warning(key: &str) -> Option<String> {
    installed()?.owner_key_unused(key)
}

/// The warning after storing the owner key `key`: that the installed Nix will not use it, or
/// else that Nix compares the owner exactly as stored, case included.
pub fn stored_owner_key_warning(key: &str) -> Option<String> {
    stored_warning(installed().as_ref(), key)
}

fn stored_warning(nix: Option<&NixVersion>, key: &str) -> Option<String> {
    if let Some(unused) = nix.and_then(|n| n.owner_key_unused(key)) {
        return Some(unused);
    }
    case_warning(key)
}

/// Nix compares `HOST/OWNER/REPO` with the key byte for byte, while forges and the git helper
/// ignore case: an owner with letters may be spelled otherwise in a flake.
fn case_warning(key: &str) -> Option<String> {
    let (_, path) = key.split_once('/')?;
    let other = if path.chars().any(|c| c.is_ascii_uppercase()) {
        path.to_ascii_lowercase()
    } else {
        let mut chars = path.chars();
        let first = chars.find(char::is_ascii_alphabetic)?;
        let at = path.find(first)?;
        format!(
            "{}{}{}",
            &path[..at],
            first.to_ascii_uppercase(),
            &path[at + 1..]
        )
    };
    Some(format!(
        "Nix compares {key} with each input's HOST/OWNER/REPO exactly, case included: it uses this token for inputs that spell the owner `{path}`, not `{other}` (the forge and `nix-tokens git-credential` ignore case); store one key per spelling your flakes use"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(line: &str) -> NixVersion {
        parse(line).unwrap_or_else(|| panic!("{line:?} reads as a version"))
    }

    #[test]
    fn tells_nix_determinate_nix_and_lix_apart() {
        let nix = v("nix (Nix) 2.8.0\n");
        assert_eq!(nix.implementation, Implementation::Nix);
        assert_eq!((nix.number, nix.name()), ((2, 8), "Nix 2.8.0".into()));
        assert!(!nix.matches_owner_keys());
        assert!(!nix.reaches_github_enterprise());
        assert!(v("nix (Nix) 2.9.0").reaches_github_enterprise());
        assert!(v("nix (Nix) 2.34.8").matches_owner_keys());
        assert!(v("nix (Nix) 2.27.0pre20250101_dirty").matches_owner_keys());
        assert!(!v("nix (Nix) 2.26.3").matches_owner_keys());

        let determinate = v("nix (Determinate Nix 3.6.2) 2.29.0");
        assert_eq!(
            determinate.implementation,
            Implementation::Determinate("3.6.2".into())
        );
        assert_eq!(determinate.name(), "Determinate Nix 3.6.2 (Nix 2.29.0)");
        assert!(determinate.matches_owner_keys());
        assert!(!v("nix (Determinate Nix 3.0.0) 2.26.3").matches_owner_keys());

        let lix = v("nix (Lix, like Nix) 2.93.0");
        assert_eq!(lix.implementation, Implementation::Lix);
        assert_eq!(lix.name(), "Lix 2.93.0");
        assert!(!lix.matches_owner_keys(), "Lix matches whole hosts only");

        assert_eq!(
            v("nix (Fork) 2.30.1").implementation,
            Implementation::Other("Fork".into())
        );
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("nix (Nix)"), None);
    }

    #[test]
    fn each_nix_gets_its_own_owner_key_answer() {
        let key = "github.com/my-org";
        let old = v("nix (Nix) 2.8.0").owner_key_unused(key).unwrap();
        assert!(
            old.contains("installed Nix 2.8.0 matches access-tokens by whole host only")
                && old.contains("Nix 2.27 and later"),
            "{old}"
        );
        let lix = v("nix (Lix, like Nix) 2.93.0")
            .owner_key_unused(key)
            .unwrap();
        assert!(
            lix.contains("Lix 2.93.0 matches access-tokens by whole host only")
                && lix.contains("every Lix so far")
                && !lix.contains("2.27"),
            "{lix}"
        );
        let determinate = v("nix (Determinate Nix 3.1.0) 2.26.3")
            .owner_key_unused(key)
            .unwrap();
        assert!(
            determinate.contains("Determinate Nix 3.1.0 (Nix 2.26.3)")
                && determinate.contains("follows Nix 2.27 or later"),
            "{determinate}"
        );
        for fine in ["nix (Nix) 2.34.8", "nix (Determinate Nix 3.6.2) 2.29.0"] {
            assert_eq!(v(fine).owner_key_unused(key), None, "{fine}");
        }
    }

    #[test]
    fn a_stored_owner_key_warns_of_case_where_nix_uses_it() {
        let recent = v("nix (Nix) 2.34.8");
        let lower = stored_warning(Some(&recent), "github.com/my-org").unwrap();
        assert!(
            lower.contains("exactly, case included") && lower.contains("`my-org`, not `My-org`"),
            "{lower}"
        );
        let mixed = stored_warning(Some(&recent), "github.com/My-Org").unwrap();
        assert!(mixed.contains("`My-Org`, not `my-org`"), "{mixed}");
        // No letters: no other spelling.
        assert_eq!(stored_warning(Some(&recent), "gitlab.com/1234"), None);
        // Where the key is not used at all, that is what is said.
        let lix = v("nix (Lix, like Nix) 2.93.0");
        let unused = stored_warning(Some(&lix), "github.com/my-org").unwrap();
        assert!(unused.contains("whole host only"), "{unused}");
        // Without a Nix to ask, the case still matters to whichever Nix reads the file.
        assert!(stored_warning(None, "github.com/my-org").is_some());
        assert_eq!(stored_warning(Some(&recent), "github.com"), None);
    }
}
