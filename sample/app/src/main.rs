fn main() {
    println!("{}", app::summary());
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs() {
        assert!(!app::summary().is_empty());
    }
}
