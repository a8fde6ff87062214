//! Reading a `flake.lock` as Nix reads it (`libflake/lockfile.cc`, format version 7): `root`
//! names the root node in `nodes`; a node's `inputs` map an input's name to the key of another
//! node, or to an array (a `follows` path from the root), which adds no node. Every node reached
//! from the root through keys is an input, named by the attribute path that first reaches it
//! (`foo/bar` for `bar` of `foo`), breadth first, so the shortest path names it. A lock file that
//! is too large, not JSON, of another version or inconsistent is one sentence naming the file.

use std::collections::HashSet;
use std::collections::VecDeque;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::ui::printable;

/// The only lock file format read: the one every Nix since 2.4 writes.
pub const VERSION: u64 = 7;

/// No flake.lock comes near this; a larger file is not read at all.
pub const MAX_SIZE: u64 = 16 << 20;

/// More inputs than any flake has, or inputs nested deeper than any flake nests them, would make
/// a table no one reads (and names that grow with the square of the depth): such a file is refused.
const MAX_INPUTS: usize = 10_000;
const MAX_DEPTH: usize = 64;

/// One node of the lock file other than the root.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedInput {
    /// The attribute path: `nixpkgs`, or `foo/bar` for a transitive input.
    pub name: String,
    /// What the flake asked for (`nix flake update` fetches this again).
    pub original: Map<String, Value>,
    /// What the lock pins.
    pub locked: Map<String, Value>,
}

impl LockedInput {
    /// The input's type as the lock names it (`github`, `git`, `tarball`, `indirect`, …).
    pub fn kind(&self) -> &str {
        self.original
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Reads the lock file at `path`; `Ok(None)` when there is none.
pub fn read(path: &Path) -> Result<Option<Vec<LockedInput>>> {
    use crate::nixconf::fsio::{self, Opened};
    let (file, meta) = match fsio::open_regular(path)? {
        Opened::Missing => return Ok(None),
        Opened::Unreadable(e) => return Err(Error::io("read", path, &e)),
        Opened::Directory => return Err(bad(path, "it is a directory")),
        Opened::File(file, meta) => (file, meta),
    };
    if meta.len() > MAX_SIZE {
        return Err(bad(
            path,
            "it is larger than 16 MiB, which no flake.lock is",
        ));
    }
    let bytes = fsio::read_limited(file, path, MAX_SIZE)?;
    let text = String::from_utf8(bytes).map_err(|_| bad(path, "it is not text (UTF-8)"))?;
    parse(&text, path).map(Some)
}

fn bad(path: &Path, why: &str) -> Error {
    Error::failed(format!(
        "{} is not a flake.lock nix-tokens can read: {why}; nothing was fetched",
        path.display()
    ))
}

/// The inputs of a lock file's text; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Vec<LockedInput>> {
    let json: Value =
        serde_json::from_str(text).map_err(|e| bad(path, &format!("it is not JSON ({e})")))?;
    let version = json.get("version").and_then(Value::as_u64);
    match version {
        Some(VERSION) => {}
        Some(other) => {
            return Err(Error::failed(format!(
                "{} is a version {other} lock file, and nix-tokens reads version {VERSION}, the one Nix writes; nothing was fetched",
                path.display()
            )));
        }
        None => return Err(bad(path, "it has no lock file `version`")),
    }
    let nodes = json
        .get("nodes")
        .and_then(Value::as_object)
        .ok_or_else(|| bad(path, "it has no `nodes`"))?;
    let root = json
        .get("root")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(path, "it names no `root` node"))?;
    walk(nodes, root).map_err(|why| bad(path, &why))
}

/// Every node reached from `root` through node keys, breadth first.
fn walk(nodes: &Map<String, Value>, root: &str) -> std::result::Result<Vec<LockedInput>, String> {
    let node = |key: &str| {
        nodes
            .get(key)
            .and_then(Value::as_object)
            .ok_or_else(|| format!("the node `{}` is missing", printable(key)))
    };
    node(root)?;
    let mut seen: HashSet<&str> = HashSet::from([root]);
    let mut queue: VecDeque<(&str, String, usize)> = VecDeque::from([(root, String::new(), 0)]);
    let mut out = Vec::new();
    while let Some((key, path, depth)) = queue.pop_front() {
        let Some(inputs) = node(key)?.get("inputs") else {
            continue;
        };
        let inputs = inputs
            .as_object()
            .ok_or_else(|| format!("the `inputs` of node `{}` are not a map", printable(key)))?;
        for (name, target) in inputs {
            let name = match path.is_empty() {
                true => printable(name),
                false => format!("{path}/{}", printable(name)),
            };
            let child = match target {
                // A `follows`: the input is another node, reached (and named) by its own path.
                Value::Array(_) => continue,
                Value::String(child) => child.as_str(),
                _ => {
                    return Err(format!(
                        "the input `{name}` is neither a node nor a `follows`"
                    ));
                }
            };
            if child == root {
                return Err(format!(
                    "the input `{name}` refers back to the root node, which Nix refuses"
                ));
            }
            if !seen.insert(child) {
                continue;
            }
            if depth + 1 > MAX_DEPTH || out.len() == MAX_INPUTS {
                return Err(format!(
                    "it has inputs nested more than {MAX_DEPTH} deep, or more than {MAX_INPUTS} of them, which no flake has"
                ));
            }
            let attrs = |field: &str| {
                node(child)?
                    .get(field)
                    .and_then(Value::as_object)
                    .cloned()
                    .ok_or_else(|| {
                        format!("the node `{}` has no `{field}` input", printable(child))
                    })
            };
            out.push(LockedInput {
                original: attrs("original")?,
                locked: attrs("locked")?,
                name: name.clone(),
            });
            queue.push_back((child, name, depth + 1));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(kind: &str, extra: Value) -> Value {
        let mut original = json!({"type": kind});
        original
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"original": original.clone(), "locked": original})
    }

    fn names(lock: &Value) -> Vec<String> {
        parse(&lock.to_string(), Path::new("/f/flake.lock"))
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect()
    }

    #[test]
    fn transitive_inputs_by_path_and_follows_add_no_node() {
        let mut dep = node("github", json!({"owner": "o", "repo": "dep"}));
        dep["inputs"] = json!({"nixpkgs": ["nixpkgs"], "utils": "utils", "extra": "extra"});
        let mut utils = node("github", json!({"owner": "numtide", "repo": "flake-utils"}));
        utils["inputs"] = json!({"systems": "systems"});
        let lock = json!({
            "nodes": {
                "dep": dep,
                "extra": node("tarball", json!({"url": "https://x.example/a.tar.gz"})),
                "nixpkgs": node("github", json!({"owner": "NixOS", "repo": "nixpkgs"})),
                "root": {"inputs": {"dep": "dep", "nixpkgs": "nixpkgs", "utils": "utils"}},
                "systems": node("github", json!({"owner": "nix-systems", "repo": "default"})),
                "utils": utils,
                "unreachable": node("path", json!({"path": "/x"})),
            },
            "root": "root",
            "version": 7
        });
        // `dep/utils` is the node `utils`, already named by the shorter path `utils`.
        assert_eq!(
            names(&lock),
            ["dep", "nixpkgs", "utils", "dep/extra", "utils/systems"]
        );
        let inputs = parse(&lock.to_string(), Path::new("f")).unwrap();
        assert_eq!(inputs[3].kind(), "tarball");
        assert_eq!(inputs[0].locked["repo"], "dep");
    }

    #[test]
    fn a_root_with_no_inputs_has_none() {
        let lock = json!({"nodes": {"root": {}}, "root": "root", "version": 7});
        assert!(names(&lock).is_empty());
    }

    #[test]
    fn bad_lock_files_name_the_file() {
        let path = Path::new("/p/flake.lock");
        let err = |text: &str| parse(text, path).unwrap_err().to_string();
        let not_json = err("{\"nodes\": ");
        assert!(
            not_json.starts_with(
                "/p/flake.lock is not a flake.lock nix-tokens can read: it is not JSON"
            ) && not_json.ends_with("nothing was fetched"),
            "{not_json}"
        );
        let old = err(r#"{"nodes": {"root": {}}, "root": "root", "version": 5}"#);
        assert!(
            old.contains("/p/flake.lock is a version 5 lock file"),
            "{old}"
        );
        assert!(err("[1, 2]").contains("no lock file `version`"));
        assert!(err(r#"{"version": 7, "root": "root"}"#).contains("no `nodes`"));
        let missing =
            err(r#"{"version": 7, "root": "root", "nodes": {"root": {"inputs": {"a": "gone"}}}}"#);
        assert!(missing.contains("the node `gone` is missing"), "{missing}");
        let cycle = err(
            r#"{"version": 7, "root": "r", "nodes": {"r": {"inputs": {"a": "a"}},
                "a": {"inputs": {"b": "r"}, "original": {}, "locked": {}}}}"#,
        );
        assert!(cycle.contains("`a/b` refers back to the root"), "{cycle}");
        let bare =
            err(r#"{"version": 7, "root": "r", "nodes": {"r": {"inputs": {"a": "a"}}, "a": {}}}"#);
        assert!(bare.contains("node `a` has no `original`"), "{bare}");
        // A name with terminal escapes is shown harmless.
        let escape =
            err(r#"{"version": 7, "root": "r", "nodes": {"r": {"inputs": {"\u001b[2J": 1}}}}"#);
        assert!(
            escape.contains("`?[2J`") && !escape.contains('\u{1b}'),
            "{escape}"
        );
    }

    #[test]
    fn cycles_between_inputs_end() {
        let mut a = node("path", json!({"path": "/a"}));
        a["inputs"] = json!({"b": "b"});
        let mut b = node("path", json!({"path": "/b"}));
        b["inputs"] = json!({"a": "a"});
        let lock = json!({"nodes": {"a": a, "b": b, "root": {"inputs": {"a": "a"}}},
                          "root": "root", "version": 7});
        assert_eq!(names(&lock), ["a", "a/b"]);
    }

    #[test]
    fn deep_or_huge_locks_are_refused() {
        let chain = |length: usize| {
            let mut nodes = Map::new();
            nodes.insert("root".into(), json!({"inputs": {"n0": "n0"}}));
            for i in 0..length {
                let mut n = node("path", json!({"path": format!("/{i}")}));
                n["inputs"] = json!({ "next": format!("n{}", i + 1) });
                nodes.insert(format!("n{i}"), n);
            }
            nodes.insert(format!("n{length}"), node("path", json!({"path": "/end"})));
            json!({"nodes": nodes, "root": "root", "version": 7})
        };
        let got = names(&chain(MAX_DEPTH - 1));
        assert_eq!(got.len(), MAX_DEPTH);
        assert_eq!(got[MAX_DEPTH - 1].matches('/').count(), MAX_DEPTH - 1);
        let deep = parse(&chain(100_000).to_string(), Path::new("/d/flake.lock"));
        assert!(
            deep.unwrap_err()
                .to_string()
                .contains("nested more than 64 deep")
        );

        let mut nodes = Map::new();
        let mut inputs = Map::new();
        for i in 0..=MAX_INPUTS {
            inputs.insert(format!("i{i}"), json!(format!("i{i}")));
            nodes.insert(format!("i{i}"), node("path", json!({"path": "/"})));
        }
        nodes.insert("root".into(), json!({ "inputs": inputs }));
        let wide = json!({"nodes": nodes, "root": "root", "version": 7});
        assert!(parse(&wide.to_string(), Path::new("f")).is_err());
    }
}
