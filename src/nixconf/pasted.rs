//! Tokens pasted where a host belongs: an `access-tokens` pair such as `ghp_…=` (or a netrc
//! `machine ghp_…`) puts a token in the key. Such a key is recognised, shown only masked, never
//! contacted (no request, no DNS lookup) and never installed anywhere; the user is told which line
//! to fix.
//!
//! A key is token-shaped when it (or a part of it after `:` or `@`, as in a pasted
//! `https://oauth2:glpat-…@gitlab.com`) starts with a known token prefix (`ghp_`, `github_pat_`,
//! `glpat-`, …), or when its host is a long word without a dot that no one would name a machine:
//! not a valid host name at all, or one that mixes upper and lower case with digits, or is a
//! quarter digits or more (hex tokens). Host names with a dot, IP literals and short names are
//! never flagged. The rule itself ([`token_shaped`]) lives in [`super::tokens`], whose
//! `normalize_key` refuses such a host on the command line before anything is written.

use std::path::Path;

pub use super::tokens::token_shaped;
use crate::secret::{Secret, mask};

/// How a key is shown: masked when it is token-shaped, else as it is.
pub fn shown(key: &str) -> String {
    if token_shaped(key) {
        mask(&Secret::from(key))
    } else {
        key.to_owned()
    }
}

/// The sentence that says where a token-shaped `key` is and how to fix it: `line` of `file` for an
/// `access-tokens` pair, the file alone for a netrc `machine`.
pub fn fix_sentence(key: &str, file: &Path, line: Option<usize>) -> String {
    let masked = mask(&Secret::from(key));
    match line {
        Some(line) => format!(
            "{} line {line} has a token where the host belongs ({masked}=…), so Nix never uses it and nix-tokens does not contact it; write that pair as HOST=TOKEN (such as github.com=ghp_…) or delete it and run `nix-tokens set-token HOST`",
            file.display()
        ),
        None => format!(
            "{} has a token where the machine name belongs (machine {masked}), so curl never sends it and nix-tokens does not contact it; write that entry as `machine HOST password TOKEN` or delete it and run `nix-tokens set-token HOST`",
            file.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_recognised() {
        for key in [
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "gho_abc",
            "ghu_x",
            "ghs_x",
            "ghr_x",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
            "glpat-abcdefghijklmnopqrst",
            "glpat-abcdefghijklmnopqrst.01.0z0w1nxxx",
            "https://oauth2:glpat-abcdefghijklmnopqrst@gitlab.com",
            "user@ghp_abcdefghijklmnop",
            "0123456789abcdef0123456789abcdef01234567",
            "aB3dE5gH7jK9mN1pQ3sT5vW7",
            "abc_def_ghi_jkl_mno_pqr_stu",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789/owner",
        ] {
            assert!(token_shaped(key), "{key}");
        }
    }

    #[test]
    fn hosts_are_not_flagged() {
        for key in [
            "github.com",
            "gitlab.example.com:8443",
            "localhost",
            "127.0.0.1:3000",
            "[::1]:8080",
            "my-git-server",
            "buildserver2024nightly",
            "internal-forge-for-the-whole-company",
            "git.example.com/ghp_owner",
            "github.com/my-org",
            "cache.example.org",
            "ghe.corp.example/org/repo",
            "0123456789abcdef0123456789abcdef01234567.example.com",
        ] {
            assert!(!token_shaped(key), "{key}");
        }
    }

    #[test]
    fn shown_masks_only_tokens() {
        assert_eq!(shown("github.com"), "github.com");
        let key = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        assert_eq!(shown(key), "ghp_****89");
        let sentence = fix_sentence(key, Path::new("/c/access-tokens.conf"), Some(3));
        assert!(
            sentence.contains("/c/access-tokens.conf line 3"),
            "{sentence}"
        );
        assert!(!sentence.contains(key));
    }
}
