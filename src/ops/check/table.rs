//! `check`'s table: one line per input, its reason and fix indented below.

use super::Row;
use crate::ops::table::grid;

pub fn print(rows: &[Row]) {
    let header = ["INPUT", "VERDICT", "URL", "CREDENTIAL", "SOURCE"];
    let fixes: Vec<Option<String>> = rows
        .iter()
        .map(|r| r.fix.as_ref().map(|f| format!("fix: {f}")))
        .collect();
    let lines: Vec<(Vec<String>, Vec<&str>)> = rows
        .iter()
        .zip(&fixes)
        .map(|(r, fix)| {
            let cells = vec![
                r.input.clone(),
                r.verdict.to_owned(),
                r.url.clone(),
                r.credential.clone().unwrap_or_else(|| "-".to_owned()),
                r.source
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |s| s.display().to_string()),
            ];
            let mut notes = vec![r.reason.as_str()];
            notes.extend(fix.as_deref());
            (cells, notes)
        })
        .collect();
    grid(&header, &lines);
    let markdown: Vec<Vec<String>> = lines.into_iter().map(|(cells, _)| cells).collect();
    crate::ops::ci_output::step_summary("nix-tokens check", &header, &markdown);
}
