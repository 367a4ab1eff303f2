//! The generated layers against the Rust API:
//! - the checked-in Swift layer equals a fresh generation (`BLUETICK_WRITE_SWIFT=1` rewrites
//!   it), as the C header is checked against cbindgen;
//! - every public operation of `bluetick::Account` (the `pub fn`s of `impl Account` in
//!   `src/account/*.rs`), of `PreKeyUpload` and of the relay client (`ClientConnection`)
//!   is in the UniFFI definition and in the generated Kotlin, Python and Swift, under each
//!   language's naming. A new Rust operation fails this test until it reaches every
//!   language.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Builds the definition crate's library and generates the three languages from it, once
/// per test process.
fn generated() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(repo())
            .args(["build", "--quiet", "--release", "-p", "bluetick-uniffi"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building bluetick-uniffi failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target"));
        let lib = ["libbluetick_uniffi.so", "libbluetick_uniffi.dylib"]
            .iter()
            .map(|name| target.join("release").join(name))
            .find(|p| p.is_file())
            .expect("the release library of bluetick-uniffi");
        let out = target.join("bluetick-generated");
        // A fresh generation every run: nothing left from an earlier definition.
        if out.exists() {
            std::fs::remove_dir_all(&out).expect("remove the previous generation");
        }
        for language in ["kotlin", "python", "swift"] {
            let status = Command::new(env!("CARGO_BIN_EXE_uniffi-bindgen"))
                .current_dir(repo())
                .args([
                    "generate",
                    "--no-format",
                    "--language",
                    language,
                    "--library",
                ])
                .arg(&lib)
                .arg("--out-dir")
                .arg(out.join(language))
                .status()
                .expect("uniffi-bindgen runs");
            assert!(status.success(), "generating {language} failed");
        }
        out
    })
}

#[test]
fn checked_in_swift_is_a_fresh_generation() {
    let fresh = generated().join("swift");
    let swift = repo().join("bindings/swift/Sources");
    let pairs = [
        ("Bluetick.swift", "Bluetick/Bluetick.swift"),
        ("BluetickFFI.h", "BluetickFFI/BluetickFFI.h"),
        ("BluetickFFI.modulemap", "BluetickFFI/module.modulemap"),
    ];
    let write = std::env::var_os("BLUETICK_WRITE_SWIFT").is_some();
    for (generated, checked_in) in pairs {
        let new = read(&fresh.join(generated));
        let path = swift.join(checked_in);
        if write {
            std::fs::write(&path, &new).expect("write");
        }
        assert!(
            read(&path) == new,
            "{} differs from a fresh generation: run bindings/swift/scripts/generate.sh \
             (or this test with BLUETICK_WRITE_SWIFT=1) and commit the result",
            path.display()
        );
    }
}

/// The `pub fn` names inside `impl <ty> {` blocks of the Rust source `text`.
fn public_methods(text: &str, ty: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("impl ") {
            inside = line.trim_end() == format!("impl {ty} {{");
        } else if line.starts_with('}') {
            inside = false;
        } else if inside {
            if let Some(rest) = line.trim_start().strip_prefix("pub fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
    }
    names
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// How a Rust operation appears in the bindings: constructors over a store become one per
/// store; the `_with_rng` variants take a Rust generator object, which cannot cross a
/// language boundary (deterministic runs use the protocol layer's scripted randomness).
fn binding_names(rust: &str) -> Vec<String> {
    match rust {
        "create" => vec!["create_sqlite".into(), "create_memory".into()],
        "open" => vec!["open_sqlite".into()],
        "create_with_rng" | "open_with_rng" => vec![],
        other => vec![other.into()],
    }
}

fn check_everywhere(rust_names: &[String], definition: &str) {
    let dir = generated();
    let kotlin = read(&dir.join("kotlin/org/bluetick/bluetick.kt"));
    let python = read(&dir.join("python/bluetick.py"));
    let swift = read(&dir.join("swift/Bluetick.swift"));
    let mut missing = Vec::new();
    for rust in rust_names {
        for name in binding_names(rust) {
            let checks = [
                (
                    "the UniFFI definition",
                    definition.contains(&format!("pub fn {name}(")),
                ),
                (
                    "Kotlin",
                    kotlin.contains(&format!("fun `{}`(", camel(&name))),
                ),
                ("Python", python.contains(&format!("def {name}("))),
                ("Swift", swift.contains(&format!("func {}(", camel(&name)))),
            ];
            for (language, found) in checks {
                if !found {
                    missing.push(format!("{rust} ({name}) is missing from {language}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_account_operation_reaches_every_language() {
    let mut rust = Vec::new();
    for entry in std::fs::read_dir(repo().join("src/account")).expect("src/account") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            rust.extend(public_methods(&read(&path), "Account"));
        }
    }
    // The scan found the API (a refactor that hides it from the scan must fail here).
    for known in [
        "encrypt",
        "decrypt",
        "decrypt_batch",
        "prune_retired_prekeys",
        "trust_identity",
    ] {
        assert!(
            rust.iter().any(|n| n == known),
            "{known} not found in src/account"
        );
    }
    let definition = read(&repo().join("bindings/uniffi/src/account.rs"));
    check_everywhere(&rust, &definition);
}

#[test]
fn every_prekey_upload_operation_reaches_every_language() {
    let rust = public_methods(
        &read(&repo().join("src/account/prekeys.rs")),
        "PreKeyUpload",
    );
    for known in ["verify", "take_bundle", "merge", "to_bytes", "from_bytes"] {
        assert!(rust.iter().any(|n| n == known), "{known} not found");
    }
    let definition = read(&repo().join("bindings/uniffi/src/prekey_upload.rs"));
    check_everywhere(&rust, &definition);
}

#[test]
fn every_attachment_operation_reaches_every_language() {
    // The core's push-style `Encryptor::push` / `Decryptor::push` are `update` here (they
    // return every chunk that became ready, not one); `ChunkOpener` is the two functions.
    let rust: Vec<String> = [
        "with_key",
        "update",
        "finish",
        "attachment_chunk_range",
        "open_attachment_chunk",
    ]
    .map(String::from)
    .into();
    let definition = read(&repo().join("bindings/uniffi/src/attachment.rs"));
    check_everywhere(&rust, &definition);
}

#[test]
fn every_relay_client_operation_reaches_every_language() {
    // The sans-IO relay client (`ClientConnection`) is `RelayClient` in the bindings; its
    // `new` is the object's constructor, checked by name below.
    let rust: Vec<String> = public_methods(
        &read(&repo().join("src/relay_protocol/client.rs")),
        "ClientConnection",
    )
    .into_iter()
    .filter(|n| n != "new")
    .collect();
    for known in [
        "receive",
        "poll_transmit",
        "poll_event",
        "send",
        "committed",
        "disconnected",
        "fetch_bundle",
    ] {
        assert!(rust.iter().any(|n| n == known), "{known} not found");
    }
    let definition = read(&repo().join("bindings/uniffi/src/relay.rs"));
    assert!(definition.contains("pub fn new("));
    check_everywhere(&rust, &definition);
    let dir = generated();
    for (language, file) in [
        ("Kotlin", "kotlin/org/bluetick/bluetick.kt"),
        ("Python", "python/bluetick.py"),
        ("Swift", "swift/Bluetick.swift"),
    ] {
        let text = read(&dir.join(file));
        for ty in [
            "class RelayClient",
            "RelayEvent",
            "RelayState",
            "RelayBackoff",
        ] {
            assert!(text.contains(ty), "{ty} is missing from {language}");
        }
    }
}

#[test]
fn the_scan_sees_a_missing_operation() {
    // The check itself: an operation absent from the definition is reported.
    let result = std::panic::catch_unwind(|| {
        check_everywhere(&["forget_everything".to_string()], "pub fn encrypt(")
    });
    assert!(result.is_err());
}
