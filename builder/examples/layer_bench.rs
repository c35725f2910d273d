//! Benchmark driver for scripts/bench-layer.sh: writes the layer for a
//! directory into a scratch store and prints seconds, digest and sizes.
//! Usage: layer_bench DIR STORE [gzip|none|zstd]

use std::time::Instant;

use mxbuild::image::compress::Compression;
use mxbuild::image::layer::{self, LayerOptions};
use mxbuild::store::blobs::Blobs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(store)) = (args.get(1), args.get(2)) else {
        return Err("usage: layer_bench DIR STORE [gzip|none|zstd]".into());
    };
    let compression = match args.get(3).map(String::as_str) {
        Some("none") => Compression::None,
        Some("zstd") => Compression::Zstd,
        _ => Compression::Gzip,
    };
    let blobs = Blobs::open(std::path::Path::new(store))?;
    let start = Instant::now();
    let l = layer::from_dir(
        std::path::Path::new(dir),
        &blobs,
        LayerOptions {
            compression,
            ..Default::default()
        },
    )?;
    println!(
        "{:.3} {} {} {}",
        start.elapsed().as_secs_f64(),
        l.digest,
        l.diff_id,
        l.size
    );
    Ok(())
}
