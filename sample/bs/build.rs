// Old-syntax (`cargo:`) build script of a `links` package: `cargo:KEY=...` becomes DEP_BS_KEY
// for the build scripts of packages that depend on `bs`.
use std::env;

fn main() {
    let out_dir = env::var("OUT_DIR").expect("OUT_DIR is set by cargo");
    let mode = env::var("BS_MODE").unwrap_or_default();
    println!("cargo:rerun-if-changed=data.txt");
    println!("cargo:rerun-if-env-changed=BS_MODE");
    println!("cargo:rustc-link-search=native={}", out_dir);
    println!("cargo:KEY=value-from-links");
    println!("cargo::metadata=other=meta2");
    if !mode.is_empty() {
        eprintln!("bs: BS_MODE={}", mode);
    }
}
