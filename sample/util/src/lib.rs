//! A library built with different feature sets by the normal, build and dev dependencies of `app`.

pub fn describe() -> String {
    let mut parts: Vec<&str> = vec!["util"];
    if cfg!(feature = "plain") {
        parts.push("plain");
    }
    if cfg!(feature = "fancy") {
        parts.push("fancy");
    }
    if cfg!(feature = "extra") {
        parts.push("extra");
    }
    parts.join("+")
}
