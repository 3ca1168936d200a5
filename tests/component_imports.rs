//! The built component's import list is part of its security story: it may
//! reach the network only through wasi:http, and nothing else of the host
//! (no filesystem, sockets, environment, stdio or exit).

use std::collections::BTreeSet;

use wasmparser::{Parser, Payload};

/// Top-level imports and exports of a component (nested modules and
/// components are skipped).
fn top_level_names(bytes: &[u8]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut imports, mut exports) = (BTreeSet::new(), BTreeSet::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("the component parses") {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    imports.insert(import.expect("import").name.0.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    exports.insert(export.expect("export").name.0.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn component_imports_only_http_io_clocks_and_its_log() {
    let path = host_test::harness::config::component_path();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run ./dev build)", path.display()));
    assert_eq!(bytes.get(4..8), Some(&[0x0d, 0x00, 0x01, 0x00][..]), "a component, not a core module");

    let (imports, exports) = top_level_names(&bytes);
    println!("imports: {imports:#?}\nexports: {exports:#?}\nsize: {} bytes", bytes.len());
    // `identity:connector/types` carries only type definitions (no functions).
    let allowed = ["wasi:http/", "wasi:io/", "wasi:clocks/", "identity:connector/log@", "identity:connector/types@"];
    for import in &imports {
        assert!(allowed.iter().any(|prefix| import.starts_with(prefix)), "unexpected import {import}");
    }
    assert!(imports.iter().any(|i| i.starts_with("wasi:http/outgoing-handler@")), "{imports:?}");
    assert_eq!(exports, BTreeSet::from(["identity:connector/connector@0.6.0".to_string()]));
}
