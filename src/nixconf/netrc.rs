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
    /// Bytes of the file this entry occupies, from its first word to the end of its last line.
    span: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Netrc {
    text: String,
    entries: Vec<NetrcEntry>,
}

/// One word of the file and where it starts and ends.
struct Word {
    text: String,
    start: usize,
    end: usize,
}

fn words(text: &str) -> Vec<Word> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' {
            let start = i;
            let mut word = Vec::new();
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                word.push(bytes[i]);
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            out.push(Word {
                text: String::from_utf8_lossy(&word).into_owned(),
                start,
                end: i,
            });
        } else {
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(Word {
                text: text[start..i].to_owned(),
                start,
                end: i,
            });
        }
    }
    out
}

/// The end of the line that `pos` is on, past its `\n`.
fn end_of_line(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

impl Netrc {
    pub fn parse(text: &str) -> Self {
        let words = words(text);
        let mut entries: Vec<NetrcEntry> = Vec::new();
        let mut last_end = 0;
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            match w.text.as_str() {
                "machine" | "default" => {
                    if let Some(prev) = entries.last_mut() {
                        prev.span.end = end_of_line(text, last_end).min(w.start).max(last_end);
                    }
                    let machine = if w.text == "machine" {
                        i += 1;
                        words.get(i).map(|m| m.text.clone())
                    } else {
                        None
                    };
                    last_end = words.get(i).map_or(w.end, |m| m.end);
                    entries.push(NetrcEntry {
                        machine,
                        login: None,
                        password: None,
                        span: w.start..text.len(),
                    });
                }
                "macdef" => {
                    // A macro runs to the next blank line; none of it is entries.
                    let body_start = end_of_line(text, w.end.min(text.len()));
                    let body_end = text[body_start..]
                        .find("\n\n")
                        .map_or(text.len(), |j| body_start + j + 2);
                    last_end = body_end.saturating_sub(1).max(w.end);
                    while i + 1 < words.len() && words[i + 1].start < body_end {
                        i += 1;
                    }
                }
                key @ ("login" | "password" | "account") => {
                    let value = words.get(i + 1);
                    if let (Some(entry), Some(v)) = (entries.last_mut(), value) {
                        match key {
                            "login" => entry.login = Some(v.text.clone()),
                            "password" => entry.password = Some(Secret::from(v.text.clone())),
                            _ => {}
                        }
                        last_end = v.end;
                    }
                    i += 1;
                }
                _ => last_end = w.end,
            }
            i += 1;
        }
        if let Some(prev) = entries.last_mut() {
            prev.span.end = end_of_line(text, last_end.min(text.len()));
        }
        Netrc {
            text: text.to_owned(),
            entries,
        }
    }

    pub fn render(&self) -> &str {
        &self.text
    }

    pub fn entries(&self) -> &[NetrcEntry] {
        &self.entries
    }

    /// The entry curl would use for `host`: the first `machine` that matches.
    pub fn get(&self, host: &str) -> Option<&NetrcEntry> {
        self.entries
            .iter()
            .find(|e| e.machine.as_deref() == Some(host))
    }

    /// Where the entries for `host` stand in the text, in file order.
    fn spans_of(&self, host: &str) -> Vec<Range<usize>> {
        self.entries
            .iter()
            .filter(|e| e.machine.as_deref() == Some(host))
            .map(|e| e.span.clone())
            .collect()
    }

    /// Writes `machine HOST login LOGIN password TOKEN`: the first entry for the host is replaced
    /// where it stands, any later ones removed; otherwise the entry is appended.
    pub fn set(&mut self, host: &str, login: &str, token: &Secret<String>) {
        let line = format!("machine {host} login {login} password {}\n", token.expose());
        let spans = self.spans_of(host);
        let mut text = self.text.clone();
        match spans.split_first() {
            Some((first, rest)) => {
                for span in rest.iter().rev() {
                    text.replace_range(span.clone(), "");
                }
                text.replace_range(first.clone(), &line);
            }
            None => {
                if !text.is_empty() && !text.ends_with('\n') {
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

    #[test]
    fn reads_entries() {
        let n = Netrc::parse(SAMPLE);
        let hosts: Vec<_> = n.entries().iter().map(|e| e.machine.clone()).collect();
        assert_eq!(
            hosts,
            [Some("a.example".into()), Some("cache.example".into()), None]
        );
        assert_eq!(
            n.get("cache.example")
                .unwrap()
                .password
                .as_ref()
                .unwrap()
                .expose(),
            "p w"
        );
        assert_eq!(n.get("a.example").unwrap().login.as_deref(), Some("me"));
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
        n.set("z.example", "bot", &"t".into());
        assert!(
            n.render().ends_with(
                "default login anon password x\nmachine z.example login bot password t\n"
            )
        );
    }

    #[test]
    fn remove_takes_only_that_host() {
        let mut n = Netrc::parse(SAMPLE);
        assert!(n.remove("cache.example"));
        assert!(n.get("cache.example").is_none());
        assert_eq!(
            n.render(),
            // A macro belongs to the machine above it and goes with it.
            "# my netrc\nmachine a.example login me password p1\n\n\
             default login anon password x\n"
        );
        assert!(!n.remove("cache.example"));
    }

    #[test]
    fn one_line_entries_are_removed_whole() {
        let mut n = Netrc::parse("machine a login x password 1\nmachine b login y password 2\n");
        n.remove("a");
        assert_eq!(n.render(), "machine b login y password 2\n");
        n.remove("b");
        assert_eq!(n.render(), "");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::nixconf::proptest_cases()))]

        #[test]
        fn parse_never_panics_and_keeps_text(text in "(?s)[ -~\t\n]{0,300}") {
            let n = Netrc::parse(&text);
            prop_assert_eq!(n.render(), text.as_str());
        }

        #[test]
        fn set_then_get_finds_the_token(
            text in "(?s)(machine [a-c] login [a-z]{1,3} password [a-z]{1,3}\n|# c\n|\n){0,8}",
            host in "[a-d]",
        ) {
            let mut n = Netrc::parse(&text);
            let others: Vec<_> = n.entries().iter().filter(|e| e.machine.as_deref() != Some(host.as_str())).map(|e| e.machine.clone()).collect();
            n.set(&host, "me", &"tok".into());
            prop_assert_eq!(n.get(&host).unwrap().password.as_ref().unwrap().expose(), "tok");
            n.remove(&host);
            let after: Vec<_> = n.entries().iter().map(|e| e.machine.clone()).collect();
            prop_assert_eq!(after, others);
        }
    }
}
