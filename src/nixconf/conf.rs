//! A lossless model of one Nix configuration file.
//!
//! The file is kept as its exact lines (each with its own line ending), and each line is read the
//! way Nix reads it (REFERENCE.md §1): everything from the first `#` is a comment, tokens are split
//! on spaces, tabs and carriage returns, `include PATH` and `!include PATH` pull in other files, and
//! any other non-blank line must be `name = value` with `=` as its own word. Rendering gives back
//! every byte that was not edited; edits touch only the lines they must.

use std::path::{Component, Path, PathBuf};

/// How Nix reads one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Nothing but white space and comments.
    Blank,
    /// `include PATH` (`optional` false) or `!include PATH` (`optional` true).
    Include { path: String, optional: bool },
    /// `name = value`; the value's words are joined by single spaces, as Nix does.
    Setting { name: String, value: String },
    /// A line Nix refuses with "illegal configuration line". `reason` never quotes the line, which
    /// may hold a token.
    Invalid { reason: &'static str },
}

/// Reads one line (without its line ending) as Nix does.
pub fn parse_line(line: &str) -> Entry {
    let code = line.split('#').next().unwrap_or("");
    let words: Vec<&str> = code
        .split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect();
    match words.as_slice() {
        [] => Entry::Blank,
        [_] if code.contains('=') => Entry::Invalid {
            reason: "Nix needs spaces around `=`",
        },
        [_] => Entry::Invalid {
            reason: "a setting needs `= value`",
        },
        [kw, path] if *kw == "include" || *kw == "!include" => Entry::Include {
            path: (*path).to_owned(),
            optional: *kw == "!include",
        },
        [kw, ..] if *kw == "include" || *kw == "!include" => Entry::Invalid {
            reason: "an include takes exactly one path (paths cannot contain spaces)",
        },
        [name, eq, rest @ ..] if *eq == "=" => Entry::Setting {
            name: (*name).to_owned(),
            value: rest.join(" "),
        },
        _ => Entry::Invalid {
            reason: "Nix needs `name = value` with spaces around `=`",
        },
    }
}

/// Why Nix would not read `value` back identically from a `name = value` line, if it would not:
/// nothing in Nix's syntax escapes a `#` (the rest becomes a comment), and white space between
/// words is read as one space. A path nix-tokens cannot write this way is refused, not mangled.
pub fn value_problem(value: &str) -> Option<&'static str> {
    if value.contains('#') {
        return Some("Nix reads everything after `#` as a comment, and nothing escapes it");
    }
    match parse_line(&format!("name = {value}")) {
        Entry::Setting { value: read, .. } if read == value => None,
        _ => Some(
            "Nix reads tabs, line breaks, repeated spaces and spaces at either end as one space",
        ),
    }
}

/// Why `path` cannot follow `include` or `!include`, if it cannot: as [`value_problem`], and an
/// include takes one word, so no white space at all.
pub fn include_path_problem(path: &str) -> Option<&'static str> {
    match value_problem(path) {
        Some(problem) => Some(problem),
        None if path.contains(' ') => Some("an include line takes a path without spaces"),
        None => None,
    }
}

/// One configuration file, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfFile {
    /// Each line with its own ending (`\n`); the last may have none.
    lines: Vec<String>,
}

impl ConfFile {
    pub fn parse(text: &str) -> Self {
        ConfFile {
            lines: text.split_inclusive('\n').map(str::to_owned).collect(),
        }
    }

    /// The file's text: every line that was not edited, byte for byte.
    pub fn render(&self) -> String {
        self.lines.concat()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Every line as Nix reads it, with its index (0-based).
    pub fn entries(&self) -> impl Iterator<Item = (usize, Entry)> + '_ {
        self.lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i, parse_line(l.trim_end_matches('\n'))))
    }

    /// The first line Nix would refuse, as (1-based line number, reason).
    pub fn first_invalid(&self) -> Option<(usize, &'static str)> {
        self.entries().find_map(|(i, e)| match e {
            Entry::Invalid { reason } => Some((i + 1, reason)),
            _ => None,
        })
    }

    /// `(index, name, value)` of every setting, in file order.
    pub fn settings(&self) -> impl Iterator<Item = (usize, String, String)> + '_ {
        self.entries().filter_map(|(i, e)| match e {
            Entry::Setting { name, value } => Some((i, name, value)),
            _ => None,
        })
    }

    /// Removes the lines whose index `remove` accepts.
    pub fn remove_lines(&mut self, mut remove: impl FnMut(usize) -> bool) {
        let mut i = 0;
        self.lines.retain(|_| {
            let keep = !remove(i);
            i += 1;
            keep
        });
    }

    /// Replaces line `index` with `text` (a line without its ending), keeping the line's ending.
    pub fn replace_line(&mut self, index: usize, text: &str) {
        let ending = if self.lines[index].ends_with('\n') {
            "\n"
        } else {
            ""
        };
        self.lines[index] = format!("{text}{ending}");
    }

    /// Appends `text` as a new last line, first ending the current last line if it has no ending.
    pub fn append_line(&mut self, text: &str) {
        if let Some(last) = self.lines.last_mut()
            && !last.ends_with('\n')
        {
            last.push('\n');
        }
        self.lines.push(format!("{text}\n"));
    }

    /// Sets `name` to `value`: the first line setting it is rewritten in place and every later one
    /// (and every `extra-name`) removed; with no such line, one is appended. `None` removes them all.
    pub fn set_setting(&mut self, name: &str, value: Option<&str>) {
        self.set_setting_as(name, name, value);
    }

    /// Like [`set_setting`](Self::set_setting), but the line written names `written` (which may be
    /// `name` or `extra-name`).
    pub fn set_setting_as(&mut self, name: &str, written: &str, value: Option<&str>) {
        let extra = format!("extra-{name}");
        let matching: Vec<usize> = self
            .settings()
            .filter(|(_, n, _)| n == name || *n == extra)
            .map(|(i, _, _)| i)
            .collect();
        let line = value.map(|v| format!("{written} = {v}"));
        match (matching.first(), &line) {
            (Some(&first), Some(line)) => {
                self.replace_line(first, line);
                self.remove_lines(|i| i != first && matching.contains(&i));
            }
            (_, None) => self.remove_lines(|i| matching.contains(&i)),
            (None, Some(line)) => self.append_line(line),
        }
    }

    /// The value Nix ends up with for a plain (non-list) setting in this file alone: the last one.
    pub fn last_value(&self, name: &str) -> Option<String> {
        self.settings()
            .filter(|(_, n, _)| n == name)
            .map(|(_, _, v)| v)
            .last()
    }
}

/// Where an include line points, resolved as Nix does: a relative path is taken against the
/// directory of the including file *as named* (not its symlink target), and `.`/`..` are folded
/// without looking at the file system.
pub fn resolve_include(including_file: &Path, include_path: &str) -> PathBuf {
    let p = Path::new(include_path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        including_file
            .parent()
            .unwrap_or_else(|| Path::new("/"))
            .join(p)
    };
    normalize(&joined)
}

/// Folds `.` and `..` lexically, as Nix's `canonPath` does.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_lines_as_nix_does() {
        assert_eq!(parse_line("  # just a comment"), Entry::Blank);
        assert_eq!(parse_line(""), Entry::Blank);
        assert_eq!(
            parse_line("substituters = a  b\tc # trailing"),
            Entry::Setting {
                name: "substituters".into(),
                value: "a b c".into()
            }
        );
        assert_eq!(
            parse_line("access-tokens = github.com=abc#def"),
            Entry::Setting {
                name: "access-tokens".into(),
                value: "github.com=abc".into()
            }
        );
        assert_eq!(
            parse_line("empty ="),
            Entry::Setting {
                name: "empty".into(),
                value: String::new()
            }
        );
        assert_eq!(
            parse_line("!include access-tokens.conf\r"),
            Entry::Include {
                path: "access-tokens.conf".into(),
                optional: true
            }
        );
        assert!(matches!(parse_line("a=b"), Entry::Invalid { .. }));
        assert!(matches!(parse_line("a b c"), Entry::Invalid { .. }));
        assert!(matches!(parse_line("include a b"), Entry::Invalid { .. }));
        assert!(matches!(parse_line("lonely"), Entry::Invalid { .. }));
    }

    #[test]
    fn values_nix_reads_back_identically() {
        assert_eq!(value_problem("/home/me/my nix/netrc"), None);
        assert_eq!(value_problem("/a=b/netrc"), None);
        for bad in [
            "/x#y/netrc",
            "/a\tb",
            "/a  b",
            " /a",
            "/a ",
            "/a\nb",
            "/a\rb",
        ] {
            assert!(value_problem(bad).is_some(), "{bad:?}");
        }
        assert!(include_path_problem("/my nix/access-tokens.conf").is_some());
        assert_eq!(include_path_problem("/a=b/access-tokens.conf"), None);
    }

    #[test]
    fn set_setting_edits_only_its_lines() {
        let mut c =
            ConfFile::parse("# top\naccess-tokens = a=1\nfoo = bar\nextra-access-tokens = b=2\n");
        c.set_setting("access-tokens", Some("c=3"));
        assert_eq!(c.render(), "# top\naccess-tokens = c=3\nfoo = bar\n");
        c.set_setting("access-tokens", None);
        assert_eq!(c.render(), "# top\nfoo = bar\n");
        c.set_setting("access-tokens", Some("d=4"));
        assert_eq!(c.render(), "# top\nfoo = bar\naccess-tokens = d=4\n");
    }

    #[test]
    fn append_ends_an_unterminated_last_line() {
        let mut c = ConfFile::parse("foo = bar");
        c.append_line("!include x.conf");
        assert_eq!(c.render(), "foo = bar\n!include x.conf\n");
    }

    #[test]
    fn include_paths_resolve_against_the_file_as_named() {
        let conf = Path::new("/home/u/.config/nix/nix.conf");
        assert_eq!(
            resolve_include(conf, "access-tokens.conf"),
            PathBuf::from("/home/u/.config/nix/access-tokens.conf")
        );
        assert_eq!(
            resolve_include(conf, "./sub/../access-tokens.conf"),
            PathBuf::from("/home/u/.config/nix/access-tokens.conf")
        );
        assert_eq!(resolve_include(conf, "/etc/x"), PathBuf::from("/etc/x"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::nixconf::proptest_cases()))]

        #[test]
        fn parse_then_render_is_identity(text in "(?s)[ -~\t\r\n#=é]{0,400}") {
            prop_assert_eq!(ConfFile::parse(&text).render(), text);
        }

        #[test]
        fn editing_one_setting_keeps_every_other_line(
            lines in proptest::collection::vec("[ -~\t]{0,40}", 0..20),
            value in "[a-z0-9.=]{1,20}",
        ) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let mut c = ConfFile::parse(&text);
            let untouched: Vec<String> = text
                .lines()
                .filter(|l| !matches!(parse_line(l), Entry::Setting { name, .. } if name == "access-tokens" || name == "extra-access-tokens"))
                .map(str::to_owned)
                .collect();
            c.set_setting("access-tokens", Some(&value));
            let out = c.render();
            let kept: Vec<&str> = out
                .lines()
                .filter(|l| *l != format!("access-tokens = {value}"))
                .collect();
            prop_assert_eq!(kept, untouched);
        }
    }
}
