//! The bindings are generated from the project's WIT: rebuild the guest when it changes.

fn main() {
    println!("cargo:rerun-if-changed=../../../wit");
}
