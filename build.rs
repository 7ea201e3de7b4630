//! Rebuilds the binary when the embedded skill set changes (include_dir cannot track files itself).
fn main() {
    for path in ["manifest.json", "schemas", "skills"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
