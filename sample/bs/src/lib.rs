//! A package with `links = "bs"` and an old-syntax build script.

pub fn links_value() -> &'static str {
    include_str!("../data.txt").trim()
}
