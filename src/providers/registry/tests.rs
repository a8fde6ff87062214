//! The registry's tests: the built-in files, targets, caches, user files and malformed files.

use super::*;
use crate::providers::forge::Origin;
use crate::providers::provider::{Kind, Sink};
use proptest::prelude::*;

fn builtin() -> Registry {
    Registry::load(None).unwrap()
}

#[test]
fn every_built_in_file_loads_with_unique_names() {
    let r = builtin();
    let mut names: Vec<&str> = r.names();
    for p in &r.providers {
        names.extend(p.aliases.iter().map(String::as_str));
    }
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        count,
        "names and aliases are unique: {names:?}"
    );
    for name in [
        "github",
        "gitlab",
        "gitea",
        "forgejo",
        "codeberg",
        "sourcehut",
        "prefix-dev",
        "cachix",
        "attic",
        "flakehub",
        "nix-cache",
    ] {
        assert!(r.by_name(name).is_some(), "{name}");
    }
}

#[test]
fn gitlab_tokens_always_carry_a_prefix() {
    let r = builtin();
    let nix = |name: &str, token: &str| {
        let p = r.by_name(name).unwrap();
        p.forge()
            .access_token(token.into(), Origin::Personal)
            .expose()
            .clone()
    };
    assert_eq!(nix("gitlab", "glpat-x"), "PAT:glpat-x");
    assert_eq!(nix("gitlab", "OAuth2:y"), "OAuth2:y");
    assert_eq!(nix("GitHub", "ghp_x"), "ghp_x");
}

#[test]
fn targets_resolve_to_keys() {
    let r = builtin();
    let (key, p) = r.resolve_target("github", None).unwrap();
    assert_eq!(
        (key.as_str(), p.unwrap().name.as_str()),
        ("github.com", "github")
    );
    let (key, p) = r.resolve_target("https://Codeberg.org/", None).unwrap();
    assert_eq!(
        (key.as_str(), p.unwrap().kind),
        ("codeberg.org", Kind::Forgejo)
    );
    let (key, p) = r.resolve_target("git.example.com", Some("gitea")).unwrap();
    assert_eq!(
        (key.as_str(), p.unwrap().kind),
        ("git.example.com", Kind::Gitea)
    );
    let (key, p) = r.resolve_target("prefix.dev", None).unwrap();
    assert_eq!(
        (key.as_str(), p.unwrap().name.as_str()),
        ("prefix.dev", "prefix-dev")
    );
    let (_, p) = r.resolve_target("example.org", None).unwrap();
    assert!(p.is_none());
    assert!(r.resolve_target("gitea", None).is_err());
    assert_eq!(r.by_name("srht").unwrap().name, "sourcehut");
    assert_eq!(r.by_name("forgejo").unwrap().sink, Sink::Netrc);
    let err = r.require("bitbucket").unwrap_err().to_string();
    assert!(err.contains("github"), "{err}");
}

#[test]
fn binary_caches_are_found_by_their_hosts() {
    let r = builtin();
    let cachix = r.by_host("team.cachix.org").unwrap();
    assert_eq!(cachix.name, "cachix");
    assert_eq!(cachix.cache_name("team.cachix.org"), Some("team"));
    assert_eq!(cachix.cache_name("a.b.cachix.org"), None);
    assert_eq!(
        cachix.substituter("team.cachix.org", None).as_deref(),
        Some("https://team.cachix.org")
    );
    let advice = cachix.token_advice("team.cachix.org").unwrap();
    assert!(
        advice.contains(
            "read-only token in the Settings of the cache at https://app.cachix.org/cache/team"
        ),
        "{advice}"
    );
    assert_eq!(r.by_host("api.flakehub.com").unwrap().name, "flakehub");
    assert_eq!(
        r.by_name("flakehub").unwrap().netrc_hosts("flakehub.com"),
        ["flakehub.com", "api.flakehub.com", "cache.flakehub.com"]
    );
    let attic = r.by_name("attic").unwrap();
    assert_eq!(attic.substituter("attic.example.com", None), None);
    assert_eq!(
        attic
            .substituter("attic.example.com", Some("main"))
            .as_deref(),
        Some("https://attic.example.com/main")
    );
    assert!(
        attic
            .token_advice("attic.example.com")
            .unwrap()
            .contains("--pull CACHE")
    );
    assert!(
        attic
            .revoke_by_hand("attic.example.com")
            .contains("administrator of attic.example.com")
    );
    assert_eq!(
        r.by_host("cache.example.com").map(|p| p.name.as_str()),
        None
    );
}

#[test]
fn the_remembered_provider_serves_a_host_unless_it_is_gone() {
    let r = builtin();
    let remember = |host: &str, provider: &str| Hosts {
        hosts: [(
            host.to_owned(),
            crate::nixconf::hosts::HostInfo {
                provider: provider.to_owned(),
                ..Default::default()
            },
        )]
        .into(),
    };
    let name = |host: &str, hosts: &Hosts| r.serving(host, hosts).map(|p| p.name.clone());
    let none = Hosts::default();
    assert_eq!(name("github.com", &none).as_deref(), Some("github"));
    assert_eq!(name("git.corp.example", &none), None);
    // Remembered wins over the host's default provider, and names one for an unknown host.
    let corp = remember("git.corp.example", "forgejo");
    assert_eq!(name("git.corp.example", &corp).as_deref(), Some("forgejo"));
    let moved = remember("gitlab.com", "gitlab");
    assert_eq!(name("gitlab.com", &moved).as_deref(), Some("gitlab"));
    // By alias, as a person may have written it.
    let alias = remember("git.corp.example", "gl");
    assert_eq!(name("git.corp.example", &alias).as_deref(), Some("gitlab"));
    // A name the registry no longer has counts as none remembered.
    let gone = remember("git.corp.example", "retired");
    assert_eq!(name("git.corp.example", &gone), None);
    let gone = remember("team.cachix.org", "retired");
    assert_eq!(name("team.cachix.org", &gone).as_deref(), Some("cachix"));
    // Only the host itself is looked up.
    assert_eq!(name("git.corp.example:8443", &corp), None);
}

#[test]
fn user_files_add_and_replace_providers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("corp.toml"),
        "name = \"corp\"\nkind = \"github\"\ndefault_host = \"github.corp.example\"\nsink = \"access-tokens\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("gitea.toml"),
        "name = \"gitea\"\nkind = \"gitea\"\ndefault_host = \"git.corp.example\"\nsink = \"netrc\"\n",
    )
    .unwrap();
    let r = Registry::load(Some(dir.path())).unwrap();
    assert_eq!(r.by_host("github.corp.example").unwrap().name, "corp");
    assert_eq!(
        r.by_name("gitea").unwrap().default_host.as_deref(),
        Some("git.corp.example")
    );
    assert_eq!(r.by_name("gitea").unwrap().netrc_login, "nix-tokens");
}

#[test]
fn a_malformed_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    for (text, expect) in [
        (
            "name = \"x\"\nkind = \"github\"\nsink = access-tokens\n",
            " line 3 is not valid",
        ),
        (
            "name = \"x\"\nkind = \"bitbucket\"\nsink = \"netrc\"\n",
            " line 2 is not valid",
        ),
        ("name = \"x\"\nkind = \"github\"\n", "missing field `sink`"),
        (
            "name = \"x\"\nkind = \"github\"\nsink = \"netrc\"\nsinc = 1\n",
            " line 4 is not valid",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = Registry::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(expect), "{text:?}: {err}");
    }
}

#[test]
fn escapes_from_a_bad_file_are_not_printed_raw() {
    let text = "name = \"x\"\nkind = \"github\"\nsink = \"netrc\"\n\"a\\nb\\u001b[31m\" = 1\n";
    let err = parse("/p/x.toml", text).unwrap_err().to_string();
    assert!(
        err.contains("line 4 is not valid: unknown field `a?b?[31m`"),
        "{err:?}"
    );
}

/// A parse error reads as one sentence on one line that names the file and says what to do.
fn assert_one_sentence(origin: &str, text: &str) -> std::result::Result<(), TestCaseError> {
    if let Err(e) = parse(origin, text) {
        let message = e.to_string();
        prop_assert!(
            message.starts_with(&format!("the provider file {origin}")),
            "{}",
            message
        );
        prop_assert!(message.ends_with("; fix or remove it"), "{}", message);
        prop_assert!(!message.chars().any(char::is_control), "{:?}", message);
    }
    Ok(())
}

/// One change to a text: cut, insert, duplicate or drop at a place given as a fraction.
#[derive(Debug, Clone)]
enum Mutation {
    Cut(f64, usize),
    Insert(f64, String),
    DuplicateLine(f64),
    DropLine(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let toml_ish = "[\\ -~\t\n\"'=#\\[\\]{}.,é\u{0}\u{1b}]{1,12}";
    prop_oneof![
        (0.0..1.0, 1..20usize).prop_map(|(at, n)| Mutation::Cut(at, n)),
        (0.0..1.0, toml_ish).prop_map(|(at, s)| Mutation::Insert(at, s)),
        (0.0..1.0).prop_map(Mutation::DuplicateLine),
        (0.0..1.0).prop_map(Mutation::DropLine),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let at = |f: f64, len: usize| ((len as f64 * f) as usize).min(len.saturating_sub(1));
    let mut chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    match m {
        Mutation::Cut(f, n) => {
            let i = at(*f, chars.len());
            chars.drain(i..(i + n).min(chars.len()));
            chars.into_iter().collect()
        }
        Mutation::Insert(f, s) => {
            let i = at(*f, chars.len() + 1);
            chars.splice(i..i, s.chars());
            chars.into_iter().collect()
        }
        Mutation::DuplicateLine(f) if !lines.is_empty() => {
            let i = at(*f, lines.len());
            lines.insert(i, lines[i]);
            lines.concat()
        }
        Mutation::DropLine(f) if !lines.is_empty() => {
            lines.remove(at(*f, lines.len()));
            lines.concat()
        }
        _ => text.to_owned(),
    }
}

/// Lines of keys, tables, comments and values whose strings hold escapes (`\n`, `\u001b`).
fn toml_like() -> impl Strategy<Value = String> {
    let string = r#""([ !#-\[\]-~é]|\\[ntr"\\]|\\u00[01][0-9a-f]){0,10}""#;
    let key = format!("([a-z_]{{1,12}}|{string})");
    let value = format!("({string}|\\[({string}, ?){{0,3}}\\]|[0-9]{{1,3}}|true)");
    let line = format!("({key} ?= ?{value}\n|\\[[a-z]{{0,8}}\\]\n|#[ -~]{{0,10}}\n)");
    proptest::string::string_regex(&format!("{line}{{0,12}}")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::nixconf::proptest_cases()))]

    #[test]
    fn parse_any_text_without_panic(text in "(?s).{0,300}") {
        assert_one_sentence("/p/any.toml", &text)?;
    }

    #[test]
    fn parse_toml_like_text_without_panic(
        text in toml_like(),
    ) {
        assert_one_sentence("/p/toml-like.toml", &text)?;
    }

    #[test]
    fn parse_mutated_provider_files_without_panic(
        file in 0..BUILTIN.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let text = mutations.iter().fold(BUILTIN[file].1.to_owned(), |t, m| apply(&t, m));
        assert_one_sentence("/p/mutated.toml", &text)?;
    }
}
