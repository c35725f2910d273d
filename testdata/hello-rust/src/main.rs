//! hello-rust: says which architecture it was built for, so a test (and the
//! demo) can see that each platform's image got its own binary.

fn main() {
    println!(
        "hello from Rust on {} ({}-bit, {})",
        std::env::consts::ARCH,
        usize::BITS,
        if cfg!(target_env = "musl") { "musl" } else { "glibc" }
    );
}
