fn main() {
    println!("demo: {}", app::ANSWER);
}
