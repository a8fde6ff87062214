//! `check`'s table: one line per input, its reason and fix indented below.

use super::Row;

pub fn print(rows: &[Row]) {
    let header = ["INPUT", "VERDICT", "URL", "CREDENTIAL", "SOURCE"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.input.clone(),
                r.verdict.to_owned(),
                r.url.clone(),
                r.credential.clone().unwrap_or_else(|| "-".to_owned()),
                r.source
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |s| s.display().to_string()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 5]| {
        let mut out = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i + 1 == cols.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header);
    for (cols, row) in cells.iter().zip(rows) {
        line([&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]]);
        println!("  {}", row.reason);
        if let Some(fix) = &row.fix {
            println!("  fix: {fix}");
        }
    }
}
