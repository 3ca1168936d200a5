//! Checks on the component's source structure that the compiler does not
//! make: no module depends on itself through others (no cycles), and no
//! function runs past 60 lines without a comment saying why.
//!
//! A module is a file under `src/`. It depends on another when it names it
//! (`crate::a::b`, `super::x`, or a child `x::` it declares) or declares it
//! (`mod x;`). `crate::identity` and `crate::wasi` are the generated
//! bindings (`src/bindings.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/sync/phases/users.rs` → `["sync", "phases", "users"]`; `mod.rs`
/// and `lib.rs` name their folder.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without its test module and comments (a test-only
/// file, `#![cfg(test)]`, has none).
fn code(text: &str) -> String {
    if text.contains("#![cfg(test)]") {
        return String::new();
    }
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The non-test part of a file, comments kept.
fn code_with_comments(text: &str) -> String {
    if text.contains("#![cfg(test)]") {
        return String::new();
    }
    text.split("#[cfg(test)]").next().unwrap_or("").to_string()
}

fn identifiers_after<'a>(code: &'a str, prefix: &'a str) -> impl Iterator<Item = Vec<&'a str>> + 'a {
    code.match_indices(prefix).map(move |(at, _)| {
        let rest = &code[at + prefix.len()..];
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        rest[..end].split("::").filter(|s| !s.is_empty()).collect()
    })
}

/// The longest known module that `path` starts with.
fn resolve(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p))
}

#[test]
fn no_module_cycles_in_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(&src, f)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let me = module_path(&src, file);
        let text = code(&std::fs::read_to_string(file).unwrap());
        let mut targets = Vec::new();
        for path in identifiers_after(&text, "crate::") {
            let mut full: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            if matches!(full.first().map(String::as_str), Some("identity" | "wasi" | "exports")) {
                full = vec!["bindings".into()];
            }
            targets.push(full);
        }
        for path in identifiers_after(&text, "super::") {
            let mut full = me[..me.len().saturating_sub(1)].to_vec();
            full.extend(path.iter().map(|s| s.to_string()));
            targets.push(full);
        }
        for child in modules.iter().filter(|m| m.len() == me.len() + 1 && m.starts_with(&me)) {
            let name = child.last().unwrap();
            let named = text.contains(&format!("{name}::")) || text.contains(&format!("mod {name};"));
            let declared = text.contains(&format!("=> {name},")); // the phase registry's lines
            if named || declared {
                targets.push(child.clone());
            }
        }
        for target in targets {
            if let Some(target) = resolve(&modules, &target).filter(|t| *t != me) {
                edges.entry(me.clone()).or_default().insert(target);
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|n| n == node) {
            let cycle: Vec<String> = stack[at..].iter().chain([node]).map(|m| m.join("::")).collect();
            panic!("module cycle: {}", cycle.join(" -> "));
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, stack, done);
        }
        stack.pop();
        done.insert(node.clone());
    }
    let mut done = BTreeSet::new();
    for module in &modules {
        visit(module, &edges, &mut Vec::new(), &mut done);
    }
    assert!(modules.len() > 30, "read {} modules", modules.len());
}

#[test]
fn long_functions_say_why() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut unexplained = Vec::new();
    for file in &files {
        let text = code_with_comments(&std::fs::read_to_string(file).unwrap());
        let lines: Vec<&str> = text.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_fn = ["fn ", "pub fn ", "pub(crate) fn "].iter().any(|p| trimmed.starts_with(p));
            if !is_fn || line.trim_end().ends_with(';') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            let closing = format!("{}}}", " ".repeat(indent));
            let Some(length) = lines[start..].iter().position(|l| l.trim_end() == closing) else { continue };
            let comment_above = lines[..start].iter().rev().take_while(|l| {
                let t = l.trim_start();
                t.starts_with("//") || t.starts_with("#[")
            });
            let says_why = comment_above.into_iter().any(|l| l.contains("Long:"));
            if length > 60 && !says_why {
                unexplained.push(format!("{}:{} ({length} lines)", file.display(), start + 1));
            }
        }
    }
    assert!(unexplained.is_empty(), "functions over 60 lines without a `Long:` comment: {unexplained:#?}");
}
