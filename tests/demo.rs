//! Runs the demo (`cargo run --release --example demo`) and checks its transcript: the
//! relay started as a process of its own, Bob's message waiting while he was offline, the
//! ticks in order, the tampered message rejected, plain output when piped, and relay log
//! lines that never show content.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the examples next to the test binaries' folder.
fn demo_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir
        .join("examples")
        .join(format!("demo{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built; cargo test builds examples",
        path.display()
    );
    path
}

#[test]
fn the_demo_plays_the_whole_conversation() {
    let out = Command::new(demo_binary())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "demo failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains('\x1b'), "colour codes in piped output");

    let first = "\"Hi Bob! Lunch tomorrow?\"";
    let position = |needle: &str| {
        text.lines()
            .position(|l| l.starts_with("alice") && l.contains(first) && l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}:\n{text}"))
    };
    let (pending, sent, delivered, read) = (
        position("pending"),
        position("✓ sent"),
        position("delivered"),
        position("read"),
    );
    assert!(
        pending < sent && sent < delivered && delivered < read,
        "ticks out of order:\n{text}"
    );

    for expected in [
        "relay │ listening on ws://127.0.0.1:",
        "prekeys stored for bob.1",
        "hands out bob.1's bundle to alice.1: 1806 B",
        "comes online: 1 message waiting",
        "processes 4 messages newest first",
        "rejects a tampered message; nothing changed",
        "reads the genuine \"Transfer 10 EUR\"",
        "demo complete: every step behaved",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
    assert_eq!(text.matches("✓✓ read").count(), 6, "{text}");

    // The burst is decrypted newest first and shown in the order it was written.
    let burst = [
        "Perfect.",
        "I'll bring the tickets.",
        "And the umbrella.",
        "See you!",
    ];
    let lines: Vec<&str> = text.lines().collect();
    let decrypted: Vec<usize> = burst
        .iter()
        .map(|t| {
            lines
                .iter()
                .position(|l| l.contains("decrypts") && l.contains(t))
                .unwrap_or_else(|| panic!("{t} not decrypted:\n{text}"))
        })
        .collect();
    assert!(decrypted.windows(2).all(|w| w[0] > w[1]), "{text}");
    let header = lines
        .iter()
        .position(|l| l.contains("shows the conversation in the order it was written"))
        .unwrap_or_else(|| panic!("no conversation view:\n{text}"));
    // The view's lines, skipping the relay's, which its own process prints meanwhile.
    let view: Vec<&str> = lines[header + 1..]
        .iter()
        .copied()
        .filter(|l| l.trim_start().starts_with("bob"))
        .take(burst.len())
        .collect();
    for (i, t) in burst.iter().enumerate() {
        let line = view[i];
        assert!(
            line.contains(t) && line.contains("alice.1"),
            "line {i} of the view is {line:?}, not {t:?}:\n{text}"
        );
    }

    // The relay's own log lines report addresses, sizes and ids only.
    let bodies = [
        "Lunch", "12:30", "Perfect", "tickets", "umbrella", "See you", "Transfer",
    ];
    for line in text.lines().filter(|l| l.trim_start().starts_with("relay")) {
        for b in bodies {
            assert!(!line.contains(b), "the relay line shows content: {line}");
        }
    }
}
