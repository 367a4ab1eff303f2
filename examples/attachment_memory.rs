//! Peak memory of an attachment streamed file to file: writes a plaintext file (1 GiB by
//! default), encrypts it to a blob file and decrypts the blob back, reading the process's
//! peak resident set (VmHWM in /proc/self/status, Linux) before and after each step, and
//! checks the round trip by SHA-256. The figure to read is the growth over the baseline.
//!
//! Run: `cargo run --release --example attachment_memory [MiB] [dir]`
//! (defaults: 1024 MiB in the system temporary directory; the files are removed after).

use std::fs::File;
use std::io::{Read, Write};
use std::time::Instant;

use bluetick::attachment::{self, AttachmentKey};
use sha2::{Digest, Sha256};

/// Peak resident set size in KiB, from /proc/self/status.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn digest_of(path: &std::path::Path, buf: &mut [u8]) -> std::io::Result<[u8; 32]> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    loop {
        let n = f.read(buf)?;
        if n == 0 {
            return Ok(h.finalize().into());
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1024);
    let dir = args.next().map_or_else(std::env::temp_dir, Into::into);
    let plain = dir.join(format!("bluetick-attachment-{}.plain", std::process::id()));
    let blob = plain.with_extension("blob");
    let back = plain.with_extension("back");

    // The input, written with a 64 KiB buffer so that writing it adds nothing to the peak.
    let mut buf = vec![0u8; 64 << 10];
    {
        let mut f = File::create(&plain)?;
        for i in 0..mib * 16 {
            buf.fill((i % 251) as u8);
            f.write_all(&buf)?;
        }
        f.sync_all()?;
    }
    let want = digest_of(&plain, &mut buf)?;
    let baseline = peak_kib();

    let start = Instant::now();
    let pointer = attachment::encrypt(
        AttachmentKey::generate(&mut bluetick::os_rng()),
        &mut File::open(&plain)?,
        &mut File::create(&blob)?,
    )?;
    let enc_time = start.elapsed();
    let after_encrypt = peak_kib();

    let start = Instant::now();
    attachment::decrypt(&pointer, &mut File::open(&blob)?, &mut File::create(&back)?)?;
    let dec_time = start.elapsed();
    let after_decrypt = peak_kib();

    let ok = digest_of(&back, &mut buf)? == want;
    for p in [&plain, &blob, &back] {
        let _ = std::fs::remove_file(p);
    }
    let gb = (mib << 20) as f64 / 1e9;
    println!("attachment of {mib} MiB streamed file to file");
    println!("  baseline peak RSS      {baseline} KiB");
    println!(
        "  after encrypt          {after_encrypt} KiB (+{} KiB), {:.2} GB/s",
        after_encrypt.saturating_sub(baseline),
        gb / enc_time.as_secs_f64()
    );
    println!(
        "  after decrypt          {after_decrypt} KiB (+{} KiB), {:.2} GB/s",
        after_decrypt.saturating_sub(baseline),
        gb / dec_time.as_secs_f64()
    );
    println!(
        "  round trip             {}",
        if ok { "identical" } else { "DIFFERENT" }
    );
    if !ok {
        return Err("the decrypted file differs from the input".into());
    }
    Ok(())
}
