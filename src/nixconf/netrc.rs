//! A netrc file, edited without disturbing the entries nix-tokens did not write.
//!
//! Nix hands its `netrc-file` to curl, which reads `machine HOST login USER password TOKEN`
//! entries (and `default`, `account`, `macdef`, `#` comments and quoted words). Each entry is kept
//! as the exact span of text it came from, so replacing or removing one host leaves every other
//! byte of the file as it was.

use std::ops::Range;

use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct NetrcEntry {
    /// `None` for the `default` entry.
    pub machine: Option<String>,
    pub login: Option<String>,
    pub password: Option<Secret<String>>,
    /// Bytes of the file this entry's words occupy, from `machine` (or `default`) to the end of
    /// its last `login`/`password`/`account` value. Macros are not part of it.
    span: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Netrc {
    text: String,
    entries: Vec<NetrcEntry>,
    /// The first thing curl would misread or reject, as "line N: what"; such a file is not edited.
    problem: Option<String>,
}

/// One word of the file and where it starts and ends.
struct Word {
    text: String,
    start: usize,
    end: usize,
    /// A quoted word whose closing quote is missing (curl rejects the whole file).
    unclosed: bool,
}

const KEYWORDS: &[&str] = &[
    "machine", "default", "login", "password", "account", "macdef",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k))
}

/// The words of one line (`offset` is where the line starts in the file). A word that starts with
/// `#` comments out the rest of the line; a double-quoted word may hold spaces and `\` escapes.
fn line_words(line: &str, offset: usize, out: &mut Vec<Word>) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            return;
        } else if c == b'"' {
            let start = i;
            let mut word = Vec::new();
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                word.push(bytes[i]);
                i += 1;
            }
            let unclosed = i >= bytes.len() || bytes[i] != b'"';
            if !unclosed {
                i += 1;
            }
            out.push(Word {
                text: String::from_utf8_lossy(&word).into_owned(),
                start: offset + start,
                end: offset + i,
                unclosed,
            });
        } else {
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(Word {
                text: line[start..i].to_owned(),
                start: offset + start,
                end: offset + i,
                unclosed: false,
            });
        }
    }
}

/// Every word of the file outside macro bodies, and whether the file ends inside a macro. As curl
/// does, a macro body runs from the line after `macdef NAME` to the first line that starts with a
/// line break (`\n` or `\r`); a `macdef` line that ends in white space (a `\r` included) has no
/// body, as curl 7.88 reads it.
fn words(text: &str) -> (Vec<Word>, bool) {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut in_macro = false;
    for line in text.split_inclusive('\n') {
        if in_macro {
            in_macro = !(line.starts_with('\n') || line.starts_with('\r'));
        } else {
            let first = out.len();
            line_words(line, offset, &mut out);
            if let Some(m) = out[first..]
                .iter()
                .position(|w| w.text.eq_ignore_ascii_case("macdef"))
            {
                // The rest of the `macdef` line is the macro's name, not entries.
                out.truncate(first + m);
                let content = line.strip_suffix('\n').unwrap_or(line);
                in_macro = !content.ends_with(|c: char| c.is_ascii_whitespace());
            }
        }
        offset += line.len();
    }
    (out, in_macro)
}

fn same_host(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl Netrc {
    pub fn parse(text: &str) -> Self {
        let (words, _) = words(text);
        let line_of = |pos: usize| text[..pos].matches('\n').count() + 1;
        let mut problem = words
            .iter()
            .find(|w| w.unclosed)
            .map(|w| format!("line {}: a quote is not closed", line_of(w.start)));
        let mut entries: Vec<NetrcEntry> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            let keyword = w.text.to_ascii_lowercase();
            // The word after a keyword is its value, unless it is itself a keyword.
            let value = words.get(i + 1).filter(|v| !is_keyword(&v.text));
            let takes_value = matches!(
                keyword.as_str(),
                "machine" | "login" | "password" | "account"
            );
            if takes_value && value.is_none() && problem.is_none() {
                problem = Some(format!(
                    "line {}: `{}` has no value",
                    line_of(w.start),
                    w.text
                ));
            }
            match (keyword.as_str(), value) {
                ("default", _) => entries.push(NetrcEntry {
                    machine: None,
                    login: None,
                    password: None,
                    span: w.start..w.end,
                }),
                ("machine", Some(v)) => {
                    entries.push(NetrcEntry {
                        machine: Some(v.text.clone()),
                        login: None,
                        password: None,
                        span: w.start..v.end,
                    });
                    i += 1;
                }
                ("login" | "password" | "account", Some(v)) => {
                    if let Some(entry) = entries.last_mut() {
                        match keyword.as_str() {
                            "login" => entry.login = Some(v.text.clone()),
                            "password" => entry.password = Some(Secret::from(v.text.clone())),
                            _ => {}
                        }
                        entry.span.end = v.end;
                    }
                    i += 1;
                }
                _ => {}
            }
            i += 1;
        }
        Netrc {
            text: text.to_owned(),
            entries,
            problem,
        }
    }

    pub fn render(&self) -> &str {
        &self.text
    }

    /// What curl would misread or reject in this file, if anything ("line N: …").
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    pub fn entries(&self) -> &[NetrcEntry] {
        &self.entries
    }

    /// The entries curl can reach: those before `default`, which ends its search.
    fn reachable(&self) -> impl Iterator<Item = &NetrcEntry> {
        self.entries.iter().take_while(|e| e.machine.is_some())
    }

    /// The entry curl would use for `host`: the first `machine` that matches, ignoring case.
    pub fn get(&self, host: &str) -> Option<&NetrcEntry> {
        self.reachable()
            .find(|e| e.machine.as_deref().is_some_and(|m| same_host(m, host)))
    }

    /// Whether any entry, reachable or not, names `host`.
    pub fn has_host(&self, host: &str) -> bool {
        !self.spans_of(host).is_empty()
    }

    /// The spans of every entry for `host`, widened to whole lines where the entry has its lines
    /// to itself, in file order.
    fn spans_of(&self, host: &str) -> Vec<Range<usize>> {
        self.entries
            .iter()
            .filter(|e| e.machine.as_deref().is_some_and(|m| same_host(m, host)))
            .map(|e| self.whole_lines(e.span.clone()))
            .collect()
    }

    fn whole_lines(&self, span: Range<usize>) -> Range<usize> {
        let line_start = self.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[span.end..]
            .find('\n')
            .map_or(self.text.len(), |i| span.end + i + 1);
        let blank = |s: &str| s.trim().is_empty();
        if blank(&self.text[line_start..span.start]) && blank(&self.text[span.end..line_end]) {
            line_start..line_end
        } else {
            span
        }
    }

    /// Writes `machine HOST login LOGIN password TOKEN`. The first entry for the host that curl
    /// can reach (one before `default`) is replaced where it stands and every other entry for the
    /// host removed; without one, the entry goes just before `default` (which ends curl's search),
    /// or at the end.
    pub fn set(&mut self, host: &str, login: &str, token: &Secret<String>) {
        let line = format!("machine {host} login {login} password {}\n", token.expose());
        let reachable = self.get(host).map(|e| self.whole_lines(e.span.clone()));
        let mut text = self.text.clone();
        let spans = self.spans_of(host);
        for span in spans
            .iter()
            .rev()
            .filter(|s| Some(*s) != reachable.as_ref())
        {
            text.replace_range(span.clone(), "");
        }
        let reparsed = Netrc::parse(&text);
        match (
            reachable,
            reparsed.entries.iter().find(|e| e.machine.is_none()),
        ) {
            (Some(first), _) => {
                // It is the host's first entry: only entries after it were removed, so its span
                // still stands.
                let replacement = if text[..first.end].ends_with('\n') {
                    line
                } else {
                    line.trim_end().to_owned()
                };
                text.replace_range(first, &replacement);
            }
            (None, Some(default)) => {
                let line_start = text[..default.span.start].rfind('\n').map_or(0, |i| i + 1);
                if text[line_start..default.span.start].trim().is_empty() {
                    text.insert_str(line_start, &line);
                } else {
                    // `default` shares its line with another entry's words: keep them together.
                    text.insert_str(default.span.start, &line);
                }
            }
            (None, None) => {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                if words(&text).1 {
                    // The file ends inside a macro: a blank line ends it first.
                    text.push('\n');
                }
                text.push_str(&line);
            }
        }
        *self = Netrc::parse(&text);
    }

    /// Removes every entry for `host`. Returns whether there was one.
    pub fn remove(&mut self, host: &str) -> bool {
        let spans = self.spans_of(host);
        if spans.is_empty() {
            return false;
        }
        let mut text = self.text.clone();
        for span in spans.iter().rev() {
            text.replace_range(span.clone(), "");
        }
        *self = Netrc::parse(&text);
        true
    }
}

#[cfg(test)]
mod tests {
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
            n.render().ends_with(
                "machine z.example login bot password t\ndefault login anon password x\n"
            ),
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
        let mut n = Netrc::parse(
            "machine h login me\n  password mypw default login anon password anonpw\n",
        );
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
}
