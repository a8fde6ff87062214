//! The provider-file reference (docs/providers.md) against the parser: each table of a provider
//! file (the top level, `[device]`, `[oidc]`, `[cache]`, `[cache.api]`, and any the parser gains)
//! has a section on the page whose table lists exactly the keys the parser accepts there. The
//! keys come from the parser itself: its structs refuse unknown keys, and serde's refusal names
//! every key it would have accepted.

use std::collections::BTreeSet;

use super::provider::Provider;

/// A key no provider file may hold.
const UNKNOWN: &str = "no_such_key";

/// The keys the parser accepts in the table at `path` (`[]`: the top level), as its refusal of
/// an unknown key there names them; `None` when `path` is not a table.
fn accepted(path: &[&str]) -> Option<Vec<String>> {
    let text = match path {
        [] => format!("{UNKNOWN} = 1\n"),
        path => format!("[{}]\n{UNKNOWN} = 1\n", path.join(".")),
    };
    let error = toml::from_str::<Provider>(&text).expect_err("an unknown key is refused");
    let message = error.message();
    let expected = message
        .strip_prefix(&format!("unknown field `{UNKNOWN}`, expected "))?
        .lines()
        .next()
        .unwrap_or_default();
    let keys = expected.split('`').skip(1).step_by(2).map(str::to_owned);
    Some(keys.collect())
}

/// Every table of a provider file, from the top level down, with the keys the parser accepts in
/// each.
fn tables() -> Vec<(Vec<String>, Vec<String>)> {
    let mut found = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let borrowed: Vec<&str> = path.iter().map(String::as_str).collect();
        let keys = accepted(&borrowed).expect("the top level and tables refuse unknown keys");
        for key in &keys {
            let mut inner = borrowed.clone();
            inner.push(key);
            if accepted(&inner).is_some() {
                todo.push(inner.into_iter().map(str::to_owned).collect());
            }
        }
        found.push((path, keys));
    }
    found.sort();
    found
}

/// The keys in the first cells of the table under `heading` on the page.
fn documented(page: &str, heading: &str) -> Option<BTreeSet<String>> {
    let mut lines = page.lines().skip_while(|l| *l != heading);
    lines.next()?;
    let rows = lines.take_while(|l| !l.starts_with('#'));
    let keys = rows
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|row| row.split('`').next().map(str::to_owned));
    Some(keys.collect())
}

/// The heading of a table's section: `### Top level`, ``### `[cache.api]` ``.
fn heading(path: &[String]) -> String {
    match path {
        [] => "### Top level".to_owned(),
        path => format!("### `[{}]`", path.join(".")),
    }
}

#[test]
fn the_parser_names_its_keys_and_tables() {
    let tables = tables();
    let paths: Vec<String> = tables.iter().map(|(p, _)| p.join(".")).collect();
    assert_eq!(paths, ["", "cache", "cache.api", "device", "oidc"]);
    let top = &tables[0].1;
    for key in ["name", "kind", "sink", "token_page", "device", "cache"] {
        assert!(top.contains(&key.to_owned()), "{key} in {top:?}");
    }
    // Every key the parser names is one a file may hold: alone in its table, it is no unknown
    // key (a required sibling may still be missing).
    for (path, keys) in &tables {
        for key in keys {
            let table = path.join(".");
            let text = match table.as_str() {
                "" => format!("{key} = 1\n"),
                table => format!("[{table}]\n{key} = 1\n"),
            };
            let error = toml::from_str::<Provider>(&text).map(|_| ()).unwrap_err();
            assert!(
                !error.message().contains("unknown field"),
                "{text}: {error}"
            );
        }
    }
}

#[test]
fn the_provider_page_documents_every_key_of_every_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/providers.md");
    let Ok(page) = std::fs::read_to_string(path) else {
        eprintln!("skipped: {path} is not in this source tree");
        return;
    };
    for (table, keys) in tables() {
        let heading = heading(&table);
        let listed = documented(&page, &heading)
            .unwrap_or_else(|| panic!("docs/providers.md has no section `{heading}`"));
        let keys: BTreeSet<String> = keys.into_iter().collect();
        assert_eq!(
            listed, keys,
            "docs/providers.md `{heading}` (left) against the parser (right)"
        );
    }
}
