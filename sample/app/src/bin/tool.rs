fn main() {
    println!("tool: {}", app::FROM_BS);
}
