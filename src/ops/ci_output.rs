//! What `status` and `check` add in a GitHub Actions job: their table in Markdown, appended to the
//! job's step summary (`$GITHUB_STEP_SUMMARY`, shown on the run's page), and annotations
//! (`::error title=…::…`, `::warning title=…::…`) on standard output. Outside GitHub Actions they
//! do nothing. The cells are the tables' own, so a token shows only masked here too; no line that
//! comes from data begins with `::` ([`not_a_command`]), and annotations escape their data.

use std::io::Write;

use crate::flows::ci::{self, Runner};

fn on_github() -> bool {
    ci::runner() == Some(Runner::GithubActions)
}

/// `line` as it may be printed when its start comes from data (a flake input's name, a host):
/// under GitHub Actions a line beginning with `::` (after any blanks) is a workflow command to the
/// runner (`::stop-commands::…` would make it ignore every later mask), so those two colons are
/// escaped as a workflow command's data is (`%3A%3A`). Elsewhere the line is left as it is.
pub fn not_a_command(line: &str) -> String {
    let rest = line.trim_start();
    match rest.strip_prefix("::") {
        Some(after) if on_github() => {
            format!("{}%3A%3A{after}", &line[..line.len() - rest.len()])
        }
        _ => line.to_owned(),
    }
}

/// A cell of a Markdown table: `|` escaped, line breaks made spaces.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Appends `title` and a Markdown table of `header` and `rows` to the step summary.
pub fn step_summary(title: &str, header: &[&str], rows: &[Vec<String>]) {
    if !on_github() {
        return;
    }
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let mut text = format!("### {title}\n\n| {} |\n|", header.join(" | "));
    text.push_str(&" --- |".repeat(header.len()));
    text.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        text.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    text.push('\n');
    // The runner owns the file and shows what steps append to it; a summary that cannot be
    // written costs the run nothing else.
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = appended {
        eprintln!(
            "warning: could not append to the step summary {}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}

/// The annotation levels GitHub Actions shows.
#[derive(Clone, Copy)]
pub enum Level {
    Error,
    Warning,
}

/// Escapes a workflow command's message (`%`, CR, LF) and, with `property`, its `:` and `,`.
fn escape(text: &str, property: bool) -> String {
    let mut out = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// Prints an annotation titled `title` on standard output.
pub fn annotate(level: Level, title: &str, message: &str) {
    if !on_github() {
        return;
    }
    let name = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    println!(
        "::{name} title={}::{}",
        escape(title, true),
        escape(message, false)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_text_is_escaped() {
        assert_eq!(escape("a:b,c%\n", true), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape("a:b,c", false), "a:b,c");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
