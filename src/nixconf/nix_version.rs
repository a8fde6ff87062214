//! The installed Nix's version, for the one thing that depends on it here: Nix matches
//! `access-tokens` keys such as `github.com/my-org` by longest prefix only from 2.27 on; older
//! versions match whole hosts, so an owner's token is never used (REFERENCE.md §2).

use std::process::{Command, Stdio};

/// The first Nix that matches `host/path` keys.
pub const OWNER_KEYS_SINCE: (u32, u32) = (2, 27);

/// `(major, minor)` from `nix --version` output such as `nix (Nix) 2.8.0` or
/// `nix (Determinate Nix 3.6.2) 2.29.0`: the last word that reads as a version.
pub fn parse(output: &str) -> Option<(u32, u32)> {
    let line = output.lines().next()?;
    line.split_whitespace().rev().find_map(|word| {
        let mut parts = word.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some((major, minor.parse().ok()?))
    })
}

/// The installed Nix's version, when `nix` runs and says it.
pub fn installed() -> Option<(u32, u32)> {
    let out = Command::new("nix")
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// A warning when the installed Nix is too old to use owner keys such as `key`.
pub fn owner_key_warning(key: &str) -> Option<String> {
    let (major, minor) = installed()?;
    ((major, minor) < OWNER_KEYS_SINCE).then(|| {
        format!(
            "the installed Nix is {major}.{minor}, which matches access-tokens by whole host only, so it will not use the token for {key}; Nix 2.27 and later match the longest prefix (git through `nix-tokens git-credential` uses it already)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nix_version_lines() {
        assert_eq!(parse("nix (Nix) 2.8.0\n"), Some((2, 8)));
        assert_eq!(parse("nix (Nix) 2.27.1pre\n"), Some((2, 27)));
        assert_eq!(parse("nix (Determinate Nix 3.6.2) 2.29.0"), Some((2, 29)));
        assert_eq!(parse("nix (Lix, like Nix) 2.91.1"), Some((2, 91)));
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse(""), None);
        assert!((2, 8) < OWNER_KEYS_SINCE && (2, 27) >= OWNER_KEYS_SINCE);
    }
}
