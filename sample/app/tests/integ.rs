#[test]
fn dev_dependency_features() {
    assert!(util::describe().contains("extra"));
    assert_eq!(app::ANSWER, 42);
}
