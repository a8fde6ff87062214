//! The session's commit and migration on real files.

use std::fs;
use std::path::Path;

use super::*;
use crate::nixconf::paths::TOKEN_FILE;
use crate::secret::Secret;

fn layout(dir: &Path) -> Layout {
    let conf_dir = dir.join("nix");
    fs::create_dir_all(&conf_dir).unwrap();
    Layout {
        nix_conf: conf_dir.join("nix.conf"),
        token_file: conf_dir.join(TOKEN_FILE),
        netrc: conf_dir.join("netrc"),
        lock: conf_dir.join(".nix-tokens.lock"),
        hosts: conf_dir.join(".nix-tokens-hosts.json"),
        oauth: conf_dir.join(".nix-tokens-oauth.json"),
        system_dir: dir.join("etc"),
        explicit_config: true,
        system: false,
        store_dir: dir.join("store"),
        determinate: None,
    }
}

#[test]
fn a_failed_nix_conf_write_puts_the_token_file_back() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path());
    // nix.conf links into a dotfiles directory that disappears before the commit, so the
    // last write of the commit (nix.conf) fails after the token file was written.
    let dotfiles = dir.path().join("dotfiles");
    fs::create_dir_all(&dotfiles).unwrap();
    fs::write(
        dotfiles.join("nix.conf"),
        "access-tokens = a.org=aaaaaaaaaaaa\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dotfiles.join("nix.conf"), &layout.nix_conf).unwrap();
    fs::write(&layout.token_file, "access-tokens = b.org=bbbbbbbbbbbb\n").unwrap();

    let mut session = Session::open(&layout).unwrap();
    session
        .set_access_token("c.org", Secret::from("cccccccccccc"))
        .unwrap();
    fs::rename(&dotfiles, dir.path().join("moved")).unwrap();
    let err = session.commit(false).unwrap_err().to_string();
    assert!(err.contains("dotfiles"), "{err}");

    assert_eq!(
        fs::read_to_string(&layout.token_file).unwrap(),
        "access-tokens = b.org=bbbbbbbbbbbb\n",
        "the token file is back as it was"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("moved/nix.conf")).unwrap(),
        "access-tokens = a.org=aaaaaaaaaaaa\n"
    );
}

#[test]
fn migration_keeps_what_nix_uses_and_every_other_key() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path());
    fs::write(
        &layout.nix_conf,
        "access-tokens = a=1 b=2\n!include access-tokens.conf\nextra-access-tokens = b=3 c=4\n",
    )
    .unwrap();
    fs::write(&layout.token_file, "access-tokens = b=5 d=6\n").unwrap();
    let mut session = Session::open(&layout).unwrap();
    assert_eq!(session.migrate(), 3);
    let tokens: Vec<(String, String)> = session
        .tokens()
        .iter()
        .map(|(k, t)| (k.to_owned(), t.expose().clone()))
        .collect();
    // Nix reads a=1 b=2, then the token file replaces them with b=5 d=6, then c=4 is added;
    // a=1, hidden by the token file, is kept too.
    let expected = [("b", "5"), ("d", "6"), ("c", "4"), ("a", "1")];
    assert_eq!(tokens, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    assert_eq!(
        session.nix_conf.doc.render(),
        "!include access-tokens.conf\n"
    );
}
