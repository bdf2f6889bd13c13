//! The `fleetsim` command line: thin over the engine and sim crates.

fn main() {
    println!("fleetsim");
}
