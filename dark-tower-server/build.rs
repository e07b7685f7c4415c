//! Rebuild when the embedded demo app changes (files added or removed, not only edited).
fn main() {
    println!("cargo:rerun-if-changed=assets/demo");
    println!("cargo:rerun-if-changed=assets/demo/assets");
}
