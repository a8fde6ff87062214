//! The links between the pages of the manual (docs/**/*.md) and README.md: a relative link must
//! name a file or directory that exists, and its `#anchor` a heading of that page, slugged as
//! GitHub and mdBook slug them (lower case; letters, digits, `-` and `_` kept; a space becomes
//! `-`; anything else dropped; a repeated heading gets `-1`, `-2`…), or an explicit `{#id}` or
//! `<a id="…">`. mdBook's own build warns about neither, so this test is the check CI relies on.
//! Links to other sites are not fetched (no network in the tests).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// README.md and every Markdown page under docs/ (not the site mdBook builds).
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && path != root.join("docs/book") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// The page's lines outside fenced code blocks.
fn prose(text: &str) -> Vec<String> {
    let mut fence: Option<String> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        match &fence {
            Some(open) if trimmed.starts_with(open.as_str()) => fence = None,
            Some(_) => {}
            None if marker.len() >= 3 => fence = Some(marker),
            None => lines.push(line.to_owned()),
        }
    }
    lines
}

fn without_code(line: &str) -> String {
    line.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, part)| part)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every link target on the page: `[text](target)`, `[text](target "title")` and `[id]: target`;
/// none in code.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose(text).iter().map(|l| without_code(l)) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            found.push(target.trim_matches(['<', '>']).to_owned());
        }
        let t = line.trim_start();
        if let Some(def) = t.strip_prefix('[').and_then(|t| t.split_once("]: ")) {
            found.push(def.1.split_whitespace().next().unwrap_or("").to_owned());
        }
    }
    found
}

/// The anchors of a page's headings, as GitHub and mdBook make them.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text) {
        if let Some(id) = line
            .split("<a id=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        {
            seen.insert(id.to_owned());
        }
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#').trim().replace('`', "");
        if let Some((_, id)) = heading.rsplit_once("{#") {
            seen.insert(id.trim_end_matches('}').to_owned());
            continue;
        }
        let base = slug(&heading);
        let mut id = base.clone();
        for n in 1.. {
            if !seen.contains(&id) {
                break;
            }
            id = format!("{base}-{n}");
        }
        seen.insert(id);
    }
    seen
}

/// A heading's slug (without its code spans' backticks); a link keeps its text only.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else {
            break;
        };
        let end = rest[close..]
            .find(')')
            .map_or(rest.len(), |e| close + e + 1);
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end..];
    }
    text.push_str(rest);
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every broken relative link under `root`, as `page: target (why)`.
fn broken(root: &Path) -> Vec<String> {
    let mut broken = Vec::new();
    for page in pages(root) {
        let Ok(text) = std::fs::read_to_string(&page) else {
            continue;
        };
        let name = page.strip_prefix(root).unwrap().display().to_string();
        for target in links(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let linked = match file {
                "" => page.clone(),
                file => page.parent().unwrap().join(file),
            };
            if !linked.exists() {
                broken.push(format!("{name}: {target} (no such file)"));
            } else if !anchor.is_empty() && linked.is_file() {
                let linked_text = std::fs::read_to_string(&linked).unwrap_or_default();
                if !anchors(&linked_text).contains(anchor) {
                    broken.push(format!("{name}: {target} (no such heading)"));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_in_the_docs_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The pages are part of the package's source (nix/package.nix): never a silent pass without them.
    for page in ["README.md", "docs/SUMMARY.md"] {
        assert!(
            root.join(page).is_file(),
            "{page} is not in the source tree"
        );
    }
    let broken = broken(root);
    assert!(
        broken.is_empty(),
        "broken links in the docs:\n{}",
        broken.join("\n")
    );
}

#[test]
fn a_missing_page_or_heading_is_a_broken_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    write(
        "README.md",
        "# nix-tokens\n\nSee [exit codes](docs/exit-codes.md#codes-briefly) and [below](#quick-start).\n\n\
         ## Quick start\n\n```sh\n[not a link](nowhere.md)\n```\n",
    );
    write(
        "docs/exit-codes.md",
        "# Exit codes\n\n## Codes, briefly\n\n## `check --json`\n\n## Codes, briefly\n\n\
         [json](#check---json), [again](#codes-briefly-1), [up](../README.md#nix-tokens), `[code](gone.md)`\n\
         [ref]: ../README.md#quick-start\n",
    );
    assert_eq!(broken(root), Vec::<String>::new());

    write(
        "docs/exit-codes.md",
        "# Exit codes\n\n[gone](gone.md), [no heading](#codes), [other page](../README.md#install)\n\
         [ref]: ../README.md#nope\n",
    );
    assert_eq!(
        broken(root),
        [
            "README.md: docs/exit-codes.md#codes-briefly (no such heading)",
            "docs/exit-codes.md: gone.md (no such file)",
            "docs/exit-codes.md: #codes (no such heading)",
            "docs/exit-codes.md: ../README.md#install (no such heading)",
            "docs/exit-codes.md: ../README.md#nope (no such heading)",
        ]
    );
}
