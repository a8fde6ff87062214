//! `check`'s table: one line per input, its reason and fix indented below. A note or a fix that
//! several inputs share is printed once, after the table, below the names of the inputs it is
//! about, rather than on each of their lines.

use super::Row;
use crate::ops::ci_output::not_a_command;
use crate::ops::table::grid;

pub fn print(rows: &[Row]) {
    let header = ["INPUT", "VERDICT", "URL", "CREDENTIAL", "SOURCE"];
    let extras: Vec<Vec<String>> = rows.iter().map(extras).collect();
    let shared = |text: &str| {
        extras
            .iter()
            .filter(|e| e.iter().any(|t| t == text))
            .count()
            > 1
    };
    let lines: Vec<(Vec<String>, Vec<String>)> = rows
        .iter()
        .map(|r| {
            let cells = vec![
                r.input.clone(),
                r.verdict.json_name().to_owned(),
                r.url.clone(),
                r.credential.clone().unwrap_or_else(|| "-".to_owned()),
                r.source
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |s| s.display().to_string()),
            ];
            let mut reason = r.own.clone();
            for note in r.notes.iter().filter(|n| !shared(n)) {
                reason.push_str("; ");
                reason.push_str(note);
            }
            let mut notes = vec![reason];
            notes.extend(r.fix.as_ref().map(|f| fix_line(f)).filter(|f| !shared(f)));
            (cells, notes)
        })
        .collect();
    let borrowed: Vec<(Vec<String>, Vec<&str>)> = lines
        .iter()
        .map(|(cells, notes)| (cells.clone(), notes.iter().map(String::as_str).collect()))
        .collect();
    grid(&header, &borrowed);
    print_shared(rows, &extras, &shared);
    let markdown: Vec<Vec<String>> = lines.into_iter().map(|(cells, _)| cells).collect();
    crate::ops::ci_output::step_summary("nix-tokens check", &header, &markdown);
}

/// A row's notes and its fix line: what the table may print once for several rows.
fn extras(row: &Row) -> Vec<String> {
    let mut all = row.notes.clone();
    all.extend(row.fix.as_deref().map(fix_line));
    all
}

fn fix_line(fix: &str) -> String {
    format!("fix: {fix}")
}

/// Each shared note once, grouped under the names of the inputs that share it, in the order the
/// notes first appear.
fn print_shared(rows: &[Row], extras: &[Vec<String>], shared: &dyn Fn(&str) -> bool) {
    let mut groups: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for text in extras.iter().flatten().filter(|t| shared(t)) {
        let names: Vec<&str> = rows
            .iter()
            .zip(extras)
            .filter(|(_, e)| e.contains(text))
            .map(|(r, _)| r.input.as_str())
            .collect();
        match groups.iter_mut().find(|(n, _)| *n == names) {
            Some((_, texts)) if texts.contains(&text.as_str()) => {}
            Some((_, texts)) => texts.push(text),
            None => groups.push((names, vec![text])),
        }
    }
    for (names, texts) in groups {
        println!();
        println!("{}:", not_a_command(&names.join(", ")));
        for text in texts {
            println!("  {text}");
        }
    }
}
