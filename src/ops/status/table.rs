//! `status`'s tables: one line per token (with one word for what it may do: `read-only`,
//! `read-write`, `broad`, `unknown`, or `-` before its provider checked it), then one per binary
//! cache (with the name of the trusted key that is its, and its priority), each line's messages
//! indented below.

use super::Row;
use super::caches::CacheRow;
use crate::ops::table::grid;

/// The tokens' table.
pub fn print(rows: &[Row]) {
    let header = [
        "HOST",
        "PROVIDER",
        "USER",
        "TOKEN",
        "STATUS",
        "PRIVILEGES",
        "SOURCE",
    ];
    let lines: Vec<(Vec<String>, Vec<&str>)> = rows
        .iter()
        .map(|r| {
            let cells = vec![
                r.host.clone(),
                r.provider.clone().unwrap_or_else(|| "unknown".to_owned()),
                r.user.clone().unwrap_or_else(|| "-".to_owned()),
                r.token.clone(),
                r.status.json_name().to_owned(),
                r.privileges.as_ref().map_or("-", |p| p.word()).to_owned(),
                r.source.display().to_string(),
            ];
            (cells, r.message.as_deref().into_iter().collect())
        })
        .collect();
    grid(&header, &lines);
    let markdown: Vec<Vec<String>> = lines.into_iter().map(|(cells, _)| cells).collect();
    crate::ops::ci_output::step_summary("nix-tokens status", &header, &markdown);
}

/// The binary caches' table, after a blank line; nothing when Nix reads no substituter.
pub fn print_caches(caches: &[CacheRow]) {
    if caches.is_empty() {
        return;
    }
    println!();
    let header = ["SUBSTITUTER", "STATUS", "KEY", "PRIORITY", "NETRC"];
    let notes: Vec<Option<String>> = caches.iter().map(CacheRow::key_note).collect();
    let lines: Vec<(Vec<String>, Vec<&str>)> = caches
        .iter()
        .zip(&notes)
        .map(|(c, note)| {
            let key = c
                .public_key
                .as_deref()
                .map_or("none", |k| k.split_once(':').map_or(k, |(name, _)| name));
            let cells = vec![
                c.url.clone(),
                c.status.json_name().to_owned(),
                key.to_owned(),
                c.priority.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                c.source.display().to_string(),
            ];
            let messages = c.message.as_deref().into_iter().chain(note.as_deref());
            (cells, messages.collect())
        })
        .collect();
    grid(&header, &lines);
    let markdown: Vec<Vec<String>> = lines.into_iter().map(|(cells, _)| cells).collect();
    crate::ops::ci_output::step_summary("nix-tokens status: binary caches", &header, &markdown);
}
