//! Library of the sample `app` package.

include!(concat!(env!("OUT_DIR"), "/gen.rs"));

/// The number the proc-macro expands to.
pub const ANSWER: u32 = pmacro::answer!();

/// True when the build script's `cargo::rustc-cfg` reached the compiler.
pub fn generated_cfg() -> bool {
    cfg!(app_generated)
}

pub fn summary() -> String {
    format!(
        "{} / {} / bs={} / answer={}",
        GENERATED,
        util::describe(),
        bs::links_value(),
        ANSWER
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn summary_mentions_answer() {
        assert!(super::summary().contains("answer=42"));
        assert!(super::generated_cfg());
    }
}
