//! flake.lock files as Nix writes them (format version 7, `libflake/lockfile.cc`): `nodes` keyed
//! by name, each with its `original` (what the flake asked for) and `locked` (the same plus
//! `rev`, `narHash`, `lastModified`, …) attributes and, for a flake with inputs of its own,
//! `inputs` mapping each to a node's key or, for a `follows`, to a path of input names; `root`
//! names the node whose inputs are the flake's. Written with two-space indentation and sorted
//! keys, as Nix writes it.

use serde_json::{Map, Value, json};

/// A 40-digit revision.
pub const REV: &str = "0c9aadc8eff6daaa5149d2df9e6c49baaf44161c";
const NAR_HASH: &str = "sha256-o4xV5YQtBQCaS4hXX6uHjD9Fl1K+e8XQzXE7n6FjB2A=";

/// One node: `original` attributes, and the `locked` ones Nix adds to them.
pub fn node(original: Value, locked_extra: Value) -> Value {
    let mut locked = original.clone();
    let map = locked.as_object_mut().unwrap();
    map.insert("lastModified".into(), json!(1_700_000_000));
    map.insert("narHash".into(), json!(NAR_HASH));
    map.extend(locked_extra.as_object().unwrap().clone());
    json!({"locked": locked, "original": original})
}

/// `github:OWNER/REPO` (with `?host=HOST`).
pub fn github(owner: &str, repo: &str, host: Option<&str>) -> Value {
    forge("github", owner, repo, host)
}

/// `gitlab:OWNER/REPO` (with `?host=HOST`).
pub fn gitlab(owner: &str, repo: &str, host: Option<&str>) -> Value {
    forge("gitlab", owner, repo, host)
}

/// `sourcehut:~OWNER/REPO`.
pub fn sourcehut(owner: &str, repo: &str) -> Value {
    forge("sourcehut", owner, repo, None)
}

fn forge(kind: &str, owner: &str, repo: &str, host: Option<&str>) -> Value {
    let mut original = json!({"owner": owner, "repo": repo, "type": kind});
    if let Some(host) = host {
        original["host"] = json!(host);
    }
    node(original, json!({ "rev": REV }))
}

/// `git+URL?ref=main`.
pub fn git(url: &str) -> Value {
    node(
        json!({"ref": "main", "type": "git", "url": url}),
        json!({"rev": REV, "revCount": 3}),
    )
}

/// A `tarball` (or `file`) input, not a flake.
pub fn download(kind: &str, url: &str) -> Value {
    let mut n = node(json!({"type": kind, "url": url}), json!({}));
    n["flake"] = json!(false);
    n
}

/// `path:PATH`.
pub fn path(path: &str) -> Value {
    node(json!({"path": path, "type": "path"}), json!({}))
}

/// An indirect input `ID`, locked to `github:NixOS/nixpkgs`.
pub fn indirect(id: &str) -> Value {
    let locked = json!({"lastModified": 1_700_000_000, "narHash": NAR_HASH, "owner": "NixOS",
                        "repo": "nixpkgs", "rev": REV, "type": "github"});
    json!({"locked": locked, "original": {"id": id, "type": "indirect"}})
}

/// `node` with its own `inputs` (a map of name to node key, or to a follows path array).
pub fn with_inputs(mut node: Value, inputs: Value) -> Value {
    node["inputs"] = inputs;
    node
}

/// The lock file whose root has `root_inputs` (name → node key, or a follows path), with
/// `nodes` (key → node).
pub fn lock(root_inputs: Value, nodes: Value) -> String {
    let mut all: Map<String, Value> = nodes.as_object().unwrap().clone();
    all.insert("root".into(), json!({ "inputs": root_inputs }));
    let sorted: std::collections::BTreeMap<String, Value> = all.into_iter().collect();
    let document = json!({"nodes": sorted, "root": "root", "version": 7});
    serde_json::to_string_pretty(&sort(document)).unwrap() + "\n"
}

/// Every object's keys in order, as Nix's JSON library writes them.
fn sort(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: std::collections::BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sort(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
        other => other,
    }
}
