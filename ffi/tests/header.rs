//! The checked-in `include/bluetick.h` is exactly what cbindgen generates from the sources,
//! and the C example in `docs/ffi.md` is the one the C suite compiles.
//! `BLUETICK_WRITE_HEADER=1 cargo test -p bluetick-ffi --test header` rewrites the header.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn checked_in_header_is_up_to_date() {
    let path = crate_dir().join("include").join("bluetick.h");
    let generated = generate();
    if std::env::var_os("BLUETICK_WRITE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write the header");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let first = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
        panic!(
            "ffi/include/bluetick.h is out of date (first difference at line {}); run \
             `BLUETICK_WRITE_HEADER=1 cargo test -p bluetick-ffi --test header` and commit it",
            first + 1
        );
    }
}

#[test]
fn docs_example_is_the_compiled_one() {
    let example = std::fs::read_to_string(crate_dir().join("tests/c/example.c")).unwrap();
    let docs = std::fs::read_to_string(crate_dir().join("../docs/ffi.md")).unwrap();
    assert!(
        docs.contains(&format!("```c\n{example}```")),
        "docs/ffi.md must embed ffi/tests/c/example.c verbatim in a ```c block"
    );
}

#[test]
fn header_declares_every_status_and_entry_point() {
    let header = generate();
    for needle in [
        "BT_OK = 0",
        "BT_WRONG_STORAGE_KEY = 28",
        "BT_NULL_ARGUMENT = 100",
        "BT_PANIC = 103",
        "#define BT_ABI_VERSION 2",
        "typedef struct bt_account bt_account;",
        "bt_status bt_account_decrypt(",
        "void bt_buffer_free(bt_buffer *buf);",
        "bt_status bt_prekey_upload_take_bundle(",
    ] {
        assert!(header.contains(needle), "the header lacks `{needle}`");
    }
}
