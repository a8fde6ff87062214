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

/// Whether `word` is one of netrc's keywords (in any case), which curl reads as that keyword
/// wherever it expects one: never a value nix-tokens writes.
pub fn is_keyword(word: &str) -> bool {
    crate::secret::NETRC_KEYWORDS
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
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
            // `macdef` right after a keyword on its line is that keyword's value, not a macro.
            let takes_value = |w: &Word| {
                ["machine", "login", "password", "account"]
                    .iter()
                    .any(|k| w.text.eq_ignore_ascii_case(k))
            };
            let line_words = &out[first..];
            if let Some(m) = (0..line_words.len()).find(|&m| {
                line_words[m].text.eq_ignore_ascii_case("macdef")
                    && (m == 0 || !takes_value(&line_words[m - 1]))
            }) {
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
            // The word after a keyword is its value, unless it is itself a keyword on a later line
            // (a value left out). A keyword on the same line is the value, as curl reads it: an
            // older nix-tokens wrote `password default` for such a token.
            let value = words
                .get(i + 1)
                .filter(|v| !is_keyword(&v.text) || !text[w.end..v.start].contains('\n'));
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

    /// The entry curl sends for a download from `host`: its `machine`, else the `default` entry.
    pub fn for_curl(&self, host: &str) -> Option<&NetrcEntry> {
        self.get(host)
            .or_else(|| self.entries.iter().find(|e| e.machine.is_none()))
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

    /// Writes `machine HOST login LOGIN password TOKEN` (without `login` when `login` is empty:
    /// curl then sends an empty user name). The first entry for the host that curl
    /// can reach (one before `default`) is replaced where it stands and every other entry for the
    /// host removed; without one, the entry goes just before `default` (which ends curl's search),
    /// or at the end.
    pub fn set(&mut self, host: &str, login: &str, token: &Secret<String>) {
        let login = match login {
            "" => String::new(),
            login => format!(" login {login}"),
        };
        let line = format!("machine {host}{login} password {}\n", token.expose());
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
mod tests;
