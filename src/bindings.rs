//! Bindings generated from `wit/` by wit-bindgen: the WIT types, the
//! imported `log` and `wasi:*` interfaces, and the export glue. The
//! generated glue uses `unsafe` for the canonical ABI; our own code does not.

#![allow(unsafe_code, missing_docs)]

wit_bindgen::generate!({
    path: "wit",
    world: "identity:connector/connector-world",
    generate_all,
    pub_export_macro: true,
});
