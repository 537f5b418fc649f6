// A bench without the libtest harness, so it builds on stable.
use std::time::Instant;

fn main() {
    let start = Instant::now();
    let mut total = 0usize;
    for _ in 0..1000 {
        total += app::summary().len();
    }
    println!("bench1: {} bytes in {:?}", total, start.elapsed());
}
