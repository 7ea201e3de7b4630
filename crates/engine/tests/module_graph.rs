//! The engine's modules form no import cycle: planning, applying, the journal, provenance and the
//! report each depend one way (path policy, the `.skillrun/` layout and the secret scrubber sit
//! in modules of their own below them). Reads the sources, so a `use crate::x` that closes a
//! circle fails here with the circle named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn module_of(rel: &Path) -> String {
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// Source without comments (doc links to other modules are not dependencies) and without the
/// unit tests (they may reach anywhere).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let single = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let group = regex::Regex::new(r"use crate::\{([^}]*)\}").unwrap();
    let item = regex::Regex::new(r"(?:^|,)\s*([a-z_]+)").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(file.strip_prefix(&src).unwrap());
        let text = code(&std::fs::read_to_string(file).unwrap());
        let deps = graph.entry(module.clone()).or_default();
        deps.extend(single.captures_iter(&text).map(|c| c[1].to_owned()));
        for g in group.captures_iter(&text) {
            deps.extend(item.captures_iter(&g[1]).map(|c| c[1].to_owned()));
        }
        deps.remove(&module);
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    graph.values_mut().for_each(|deps| deps.retain(|d| modules.contains(d)));
    graph
}

#[test]
fn engine_modules_have_no_import_cycle() {
    let graph = graph();
    assert!(graph.contains_key("plan") && graph["pipeline"].contains("apply"), "the graph was read: {graph:?}");
    // Depth-first search; a back edge is a cycle, reported as the path that closes it.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_owned());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for d in &graph[m] {
            if let Some(cycle) = visit(d, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle between engine modules: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn engine_names_no_front_end() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    for front in ["clap", "rmcp", "axum", "tokio", "hyper"] {
        assert!(
            !manifest.lines().any(|l| l.trim_start().starts_with(&format!("{front} "))
                || l.trim_start().starts_with(&format!("{front}="))),
            "the engine depends on {front}"
        );
    }
}
