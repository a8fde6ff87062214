//! The tables `status` and `check` print on standard output: columns as wide as their widest
//! cell, two spaces apart, and each line's notes indented below it. A line that a cell's data
//! would start with `::` is escaped under GitHub Actions (see [`not_a_command`]).

use crate::ops::ci_output::not_a_command;

/// Prints `header`, then each line's cells and, below them, its notes.
pub fn grid(header: &[&str], lines: &[(Vec<String>, Vec<&str>)]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
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
        println!("{}", not_a_command(out.trim_end()));
    };
    line(header);
    for (cells, notes) in lines {
        let cols: Vec<&str> = cells.iter().map(String::as_str).collect();
        line(&cols);
        for note in notes {
            println!("  {note}");
        }
    }
}
