//! `status`'s table: one line per token (with one word for what it may do: `read-only`,
//! `read-write`, `broad`, `unknown`, or `-` before its provider checked it), and its message
//! indented below.

use super::Row;

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
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.host.clone(),
                r.provider.clone().unwrap_or_else(|| "unknown".to_owned()),
                r.user.clone().unwrap_or_else(|| "-".to_owned()),
                r.token.clone(),
                r.status.to_owned(),
                r.privileges.as_ref().map_or("-", |p| p.word()).to_owned(),
                r.source.display().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 7]| {
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
    for (row, r) in cells.iter().zip(rows) {
        line(row.each_ref().map(String::as_str));
        if let Some(m) = &r.message {
            println!("  {m}");
        }
    }
}
