//! The netrc editor against what curl reads.

use super::*;
use proptest::prelude::*;

const SAMPLE: &str = "# my netrc\nmachine a.example login me password p1\n\n\
    machine cache.example\n  login u\n  password \"p w\"\n\
    macdef init\nmachine not.an.entry\n\n\
    default login anon password x\n";

fn hosts(n: &Netrc) -> Vec<Option<String>> {
    n.entries().iter().map(|e| e.machine.clone()).collect()
}

#[test]
fn reads_entries_but_not_macros() {
    let n = Netrc::parse(SAMPLE);
    assert_eq!(
        hosts(&n),
        [Some("a.example".into()), Some("cache.example".into()), None]
    );
    let cache = n.get("cache.example").unwrap();
    assert_eq!(cache.password.as_ref().unwrap().expose(), "p w");
    assert_eq!(n.get("a.example").unwrap().login.as_deref(), Some("me"));
    assert!(n.get("not.an.entry").is_none());
    // curl sends the `default` entry for any other host.
    assert_eq!(
        n.for_curl("A.example").unwrap().login.as_deref(),
        Some("me")
    );
    assert_eq!(
        n.for_curl("other.example").unwrap().login.as_deref(),
        Some("anon")
    );
    assert!(
        Netrc::parse("machine a login b password c\n")
            .for_curl("x")
            .is_none()
    );
}

#[test]
fn set_replaces_in_place_and_keeps_the_rest() {
    let mut n = Netrc::parse(SAMPLE);
    n.set("a.example", "bot", &"new".into());
    assert_eq!(
        n.render(),
        SAMPLE.replace(
            "machine a.example login me password p1\n",
            "machine a.example login bot password new\n"
        )
    );
    // A multi-line entry becomes one line; its macro stays.
    n.set("cache.example", "bot", &"t2".into());
    assert_eq!(
        n.render(),
        "# my netrc\nmachine a.example login bot password new\n\n\
         machine cache.example login bot password t2\n\
         macdef init\nmachine not.an.entry\n\n\
         default login anon password x\n"
    );
}

#[test]
fn new_entries_go_before_default() {
    let mut n = Netrc::parse(SAMPLE);
    n.set("z.example", "bot", &"t".into());
    assert!(
        n.render()
            .ends_with("machine z.example login bot password t\ndefault login anon password x\n"),
        "{}",
        n.render()
    );
    assert_eq!(
        n.get("z.example")
            .unwrap()
            .password
            .as_ref()
            .unwrap()
            .expose(),
        "t"
    );
    let mut plain = Netrc::parse("machine a login x password 1");
    plain.set("b", "y", &"2".into());
    assert_eq!(
        plain.render(),
        "machine a login x password 1\nmachine b login y password 2\n"
    );
}

#[test]
fn remove_takes_only_that_host() {
    let mut n = Netrc::parse(SAMPLE);
    assert!(n.remove("cache.example"));
    assert!(n.get("cache.example").is_none());
    assert_eq!(
        n.render(),
        "# my netrc\nmachine a.example login me password p1\n\n\
         macdef init\nmachine not.an.entry\n\n\
         default login anon password x\n"
    );
    assert!(!n.remove("cache.example"));
}

#[test]
fn hosts_and_keywords_match_without_case() {
    let mut n = Netrc::parse("Machine Git.Example.com Login me Password old\n");
    assert!(n.get("git.example.com").is_some());
    n.set("git.example.com", "bot", &"new".into());
    assert_eq!(
        n.render(),
        "machine git.example.com login bot password new\n"
    );
    assert!(n.remove("GIT.example.com"));
    assert_eq!(n.render(), "");
}

#[test]
fn a_crlf_macro_ends_where_curl_ends_it() {
    let text = "machine a login x password 1\r\nmacdef init\r\ncd /pub\r\n\r\nmachine b login y password 2\r\n";
    let mut n = Netrc::parse(text);
    assert_eq!(hosts(&n), [Some("a".into()), Some("b".into())]);
    n.set("a", "x", &"new".into());
    assert!(
        n.render().contains("machine b login y password 2\r\n"),
        "{}",
        n.render()
    );
    assert!(n.render().contains("macdef init\r\ncd /pub\r\n\r\n"));
}

#[test]
fn an_unterminated_macro_with_non_ascii_text_is_fine() {
    let text = "machine a.example login me password p1\nmacdef init\necho é";
    let mut n = Netrc::parse(text);
    assert_eq!(hosts(&n), [Some("a.example".into())]);
    n.set("b.example", "x", &"t".into());
    assert!(n.get("b.example").is_some(), "{}", n.render());
    n.remove("a.example");
    assert!(n.render().contains("macdef init\necho é\n\n"));
}

#[test]
fn an_entry_behind_default_moves_in_front_of_it() {
    let mut n =
        Netrc::parse("default login anon password anonpw\nmachine h login me password oldpw\n");
    assert!(n.get("h").is_none(), "curl never reaches it");
    n.set("h", "me", &"new".into());
    assert_eq!(
        n.render(),
        "machine h login me password new\ndefault login anon password anonpw\n"
    );
}

#[test]
fn inserting_before_a_default_that_shares_a_line_keeps_the_entry_whole() {
    let mut n =
        Netrc::parse("machine h login me\n  password mypw default login anon password anonpw\n");
    n.set("new", "x", &"t".into());
    let h = n.get("h").unwrap();
    assert_eq!(h.password.as_ref().unwrap().expose(), "mypw");
    assert_eq!(
        n.get("new").unwrap().password.as_ref().unwrap().expose(),
        "t"
    );
}

#[test]
fn what_curl_would_misread_is_a_problem() {
    let dangling = Netrc::parse("machine old.example login\nmachine h login y password p\n");
    assert_eq!(dangling.problem(), Some("line 1: `login` has no value"));
    assert_eq!(
        dangling
            .get("h")
            .unwrap()
            .password
            .as_ref()
            .unwrap()
            .expose(),
        "p"
    );
    let quote = Netrc::parse("machine h login y password \"abc\n");
    assert_eq!(quote.problem(), Some("line 1: a quote is not closed"));
    assert_eq!(Netrc::parse(SAMPLE).problem(), None);
}

#[test]
fn a_macdef_line_ending_in_white_space_has_no_body() {
    let n = Netrc::parse(
        "machine a login x password 1\r\nmacdef init\r\nmachine b login y password 2\r\n",
    );
    assert!(n.get("b").is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::nixconf::proptest_cases()))]

    #[test]
    fn parse_never_panics_and_keeps_text(text in "(?s)[ -~\t\r\néß€]{0,300}") {
        let n = Netrc::parse(&text);
        prop_assert_eq!(n.render(), text.as_str());
    }

    #[test]
    fn set_and_remove_touch_only_that_host(
        text in "(?s)(machine [a-c] login [a-z]{1,3} password [a-z]{1,3}\n|# c\n|\n|macdef m\nx é\n\n){0,8}(macdef z\ny)?",
        host in "[a-d]",
    ) {
        let mut n = Netrc::parse(&text);
        let others: Vec<_> = n.entries().iter().filter(|e| e.machine.as_deref() != Some(host.as_str())).map(|e| e.machine.clone()).collect();
        n.set(&host, "me", &"tok".into());
        prop_assert_eq!(n.get(&host).unwrap().password.as_ref().unwrap().expose(), "tok");
        n.remove(&host);
        prop_assert_eq!(hosts(&n), others);
        prop_assert_eq!(n.render().matches("macdef").count(), text.matches("macdef").count());
    }
}

#[test]
fn a_keyword_on_the_same_line_is_the_value_as_curl_reads_it() {
    let n = Netrc::parse(
        "machine a login nix-tokens password default\nmachine b password macdef\nmachine c password 3\n",
    );
    assert_eq!(n.problem(), None);
    let password = |h: &str| {
        n.get(h)
            .unwrap()
            .password
            .as_ref()
            .unwrap()
            .expose()
            .clone()
    };
    assert_eq!(password("a"), "default");
    assert_eq!(password("b"), "macdef");
    assert_eq!(password("c"), "3");
    // On a later line it is still a value left out.
    let dangling = Netrc::parse("machine a password\ndefault login x password y\n");
    assert_eq!(dangling.problem(), Some("line 1: `password` has no value"));
}
