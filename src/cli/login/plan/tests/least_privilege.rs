//! login's plan for `--read-only` and `--public`, and where a token login is told to make its
//! token.

use super::*;

#[test]
fn a_token_login_is_told_where_to_make_the_token() {
    let r = Registry::load(None).unwrap();
    // Told so with `--flow token`, and where Codeberg refuses the browser login.
    let Obtain::Token { entry, .. } = ready(&r, "codeberg --flow token").login.obtain else {
        panic!("token entry expected");
    };
    let Obtain::Browser(browser) = ready(&r, "codeberg").login.obtain else {
        panic!("a browser login expected");
    };
    for entry in [entry, browser.entry] {
        assert_eq!(
            entry.page.as_deref(),
            Some("https://codeberg.org/user/settings/applications")
        );
        assert_eq!(
            entry.advice.as_deref(),
            Some(
                "create a token with the scopes read:repository, read:user at https://codeberg.org/user/settings/applications"
            )
        );
    }
}

#[test]
fn read_only_is_guided_entry_of_a_fine_grained_token() {
    let r = Registry::load(None).unwrap();
    let plan = ready(&r, "github --read-only").login;
    assert_eq!(plan.access, Access::ReadOnly { owner: None });
    assert!(plan.scopes.is_empty());
    let Obtain::Token { with_token, entry } = &plan.obtain else {
        panic!("token entry expected");
    };
    assert!(!with_token);
    let page = "https://github.com/settings/personal-access-tokens/new?name=Nix+%28read-only%29&description=Read-only+access+for+Nix%2C+stored+by+nix-tokens&contents=read";
    assert_eq!(entry.page.as_deref(), Some(page));
    assert_eq!(
        entry.advice.as_deref(),
        Some(format!("create a fine-grained token at {page}: resource owner the account or organisation that owns the repositories Nix fetches, repository access only to the repositories Nix fetches, and the permission Contents: Read-only (Metadata: Read-only comes with it)").as_str())
    );
    assert_eq!(
        plan.describe(
            std::path::Path::new("/c/access-tokens.conf"),
            std::path::Path::new("/c/netrc"),
        ),
        format!(
            "Dry run: would log in to github.com (provider github) with the personal token flow for a read-only token made at {page}, check the token with https://github.com/, and store it for github.com in /c/access-tokens.conf. Nothing was read or written."
        )
    );
    // With --owner, the owner to pick is named, and the token is stored for that owner.
    let plan = ready(&r, "github --read-only --owner my-org").login;
    assert_eq!(plan.target.key, "github.com/my-org");
    assert_eq!(
        plan.access,
        Access::ReadOnly {
            owner: Some("my-org".into())
        }
    );
    let Obtain::Token { entry, .. } = &plan.obtain else {
        panic!("token entry expected");
    };
    assert!(
        entry
            .page
            .as_deref()
            .unwrap()
            .ends_with("&target_name=my-org&contents=read")
    );
    assert!(
        entry
            .advice
            .as_deref()
            .unwrap()
            .contains(": resource owner `my-org`, repository access")
    );
    // GitHub Enterprise: the same page on the server; a piped token is read as it is.
    let plan = ready(&r, "ghe.example.com -p github --read-only --with-token").login;
    let Obtain::Token { with_token, entry } = &plan.obtain else {
        panic!("token entry expected");
    };
    assert!(with_token);
    assert!(
        entry
            .page
            .as_deref()
            .unwrap()
            .starts_with("https://ghe.example.com/settings/personal-access-tokens/new?")
    );
}

#[test]
fn public_is_the_device_flow_asking_for_no_scope() {
    let r = Registry::load(None).unwrap();
    let plan = ready(&r, "github --public").login;
    assert_eq!(plan.access, Access::Public);
    assert!(plan.scopes.is_empty());
    assert!(
        matches!(&plan.obtain, Obtain::Device { client_id, .. } if client_id == "178c6fc778ccc68e1d6a")
    );
    assert_eq!(
        plan.describe(
            std::path::Path::new("/c/access-tokens.conf"),
            std::path::Path::new("/c/netrc"),
        ),
        "Dry run: would log in to github.com (provider github) with the device-code flow asking for no scope (public data only), check the token with https://github.com/, and store it for github.com in /c/access-tokens.conf. Nothing was read or written."
    );
    let ghes = ready(&r, "ghe.example.com -p github --public --client-id Iv1.abc").login;
    assert!(matches!(&ghes.obtain, Obtain::Device { client_id, .. } if client_id == "Iv1.abc"));
    assert!(ghes.scopes.is_empty());
}

#[test]
fn read_only_and_public_are_refused_where_they_cannot_work() {
    let r = Registry::load(None).unwrap();
    let f = facts();
    for (line, message) in [
        (
            "github --read-only --public",
            "--read-only and --public are two different logins; pick one",
        ),
        (
            "gitlab --read-only",
            "gitlab has no read-only login of its own: its logins ask for read_api, read_repository only, which read; drop --read-only",
        ),
        (
            "codeberg --read-only",
            "codeberg has no read-only login of its own: its logins ask for read:repository, read:user only, which read; drop --read-only",
        ),
        (
            "sourcehut --read-only",
            "sourcehut has no read-only login; drop --read-only",
        ),
        (
            "prefix.dev --read-only",
            "prefix-dev has no read-only login; drop --read-only",
        ),
        (
            "github --read-only --flow device-code",
            "--read-only takes a token made by hand, not one from an OAuth flow; drop --flow device-code",
        ),
        (
            "github --read-only --scope repo",
            "--read-only takes a token made by hand, which no OAuth scope describes; drop --scope",
        ),
        (
            "gitlab --public",
            "gitlab has no public login (the device flow asking for no scope); drop --public",
        ),
        (
            "github --public --with-token",
            "--public logs in with the device flow, asking for no scope; drop --with-token",
        ),
        (
            "github --public --flow token",
            "--public logs in with the device flow, asking for no scope; drop --flow token",
        ),
        (
            "github --public --scope repo",
            "--public asks for no scope at all; drop --scope",
        ),
        (
            "ghe.example.com -p github --public",
            "the device flow on ghe.example.com needs the client id of an OAuth app registered there; pass --client-id",
        ),
    ] {
        assert_eq!(refusal(&r, line, &f), message, "{line}");
    }
}
