//! `status`'s tables: one line per token (with one word for what it may do: `read-only`,
//! `read-write`, `broad`, `unknown`, or `-` before its provider checked it), then one per binary
//! cache, each line's message indented below.

use super::Row;
use super::caches::CacheRow;

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
    let lines: Vec<(Vec<String>, Option<&str>)> = rows
        .iter()
        .map(|r| {
            let cells = vec![
                r.host.clone(),
                r.provider.clone().unwrap_or_else(|| "unknown".to_owned()),
                r.user.clone().unwrap_or_else(|| "-".to_owned()),
                r.token.clone(),
                r.status.to_owned(),
                r.privileges.as_ref().map_or("-", |p| p.word()).to_owned(),
                r.source.display().to_string(),
            ];
            (cells, r.message.as_deref())
        })
        .collect();
    grid(&header, &lines);
}

/// The binary caches' table, after a blank line; nothing when Nix reads no substituter.
pub fn print_caches(caches: &[CacheRow]) {
    if caches.is_empty() {
        return;
    }
    println!();
    let header = ["SUBSTITUTER", "STATUS", "NETRC"];
    let lines: Vec<(Vec<String>, Option<&str>)> = caches
        .iter()
        .map(|c| {
            let cells = vec![
                c.url.clone(),
                c.status.to_owned(),
                c.source.display().to_string(),
            ];
            (cells, c.message.as_deref())
        })
        .collect();
    grid(&header, &lines);
}

/// Columns as wide as their widest cell, the last one unpadded; each line's message below it.
fn grid(header: &[&str], lines: &[(Vec<String>, Option<&str>)]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for (cells, _) in lines {
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[&str]| {
        let mut out = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i + 1 == cols.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{out}");
    };
    line(header);
    for (cells, message) in lines {
        let cols: Vec<&str> = cells.iter().map(String::as_str).collect();
        line(&cols);
        if let Some(m) = message {
            println!("  {m}");
        }
    }
}
