//! The checked-in `include/bluetick.h` is exactly what cbindgen generates from the sources,
//! `docs/ffi.md` documents every function of the header with the header's own signature,
//! and the C example in `docs/ffi.md` is the one the C suite compiles.
//! `BLUETICK_WRITE_HEADER=1 cargo test -p bluetick-ffi --test header` rewrites the header.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

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
        "#define BT_ABI_VERSION 3",
        "BT_INVALID_BODY = 40",
        "typedef struct bt_account bt_account;",
        "bt_status bt_account_decrypt(",
        "void bt_buffer_free(bt_buffer *buf);",
        "bt_status bt_prekey_upload_take_bundle(",
    ] {
        assert!(header.contains(needle), "the header lacks `{needle}`");
    }
}

/// Every function declaration of the header, `(name, declaration)`, as cbindgen writes
/// them: a line at column 0 naming `bt_...(`, continued on indented lines up to `);`.
fn declarations(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in header.lines() {
        if let Some(decl) = current.as_mut() {
            decl.push('\n');
            decl.push_str(line);
        } else if !line.starts_with([' ', '#', '/', '}'])
            && !line.starts_with("typedef")
            && !line.starts_with("extern")
            && !line.starts_with("enum")
            && line.contains("bt_")
            && line.contains('(')
        {
            current = Some(line.to_owned());
        }
        if current.is_some() && line.trim_end().ends_with(");") {
            let decl = current.take().unwrap();
            let name = decl[..decl.find('(').unwrap()]
                .rsplit([' ', '*'])
                .next()
                .unwrap()
                .to_owned();
            out.push((name, decl));
        }
    }
    out
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn docs_document_every_function_of_the_header_with_its_signature() {
    let header = generate();
    let docs = std::fs::read_to_string(crate_dir().join("../docs/ffi.md")).unwrap();
    let decls = declarations(&header);
    assert!(
        decls.len() >= 56,
        "found only {} declarations in the header: has its layout changed?",
        decls.len()
    );
    let docs_squashed = squash(&docs);
    let mut problems = Vec::new();
    for (name, decl) in &decls {
        if !docs.contains(&format!("\n### `{name}`\n")) {
            problems.push(format!("`{name}` has no `### `{name}`` section"));
        }
        if !docs_squashed.contains(&squash(decl)) {
            problems.push(format!(
                "`{name}`: the header's signature is not in the docs"
            ));
        }
    }
    // And no section documents a function the header no longer has.
    for line in docs.lines() {
        if let Some(name) = line
            .strip_prefix("### `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            if name.starts_with("bt_") && !decls.iter().any(|(n, _)| n == name) {
                problems.push(format!("docs/ffi.md documents `{name}`, not in the header"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/ffi.md is out of step with the header:\n{}",
        problems.join("\n")
    );
}

#[test]
fn declarations_are_found_whole() {
    let decls = declarations(
        "uint32_t bt_abi_version(void);\n\
         // comment bt_x(\n\
         bt_status bt_inbox_get(const bt_inbox *inbox,\n    size_t index,\n    bt_inbox_entry *out);\n\
         typedef bool (*bt_identity_policy)(void *user_data);\n",
    );
    let names: Vec<_> = decls.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["bt_abi_version", "bt_inbox_get"]);
    assert!(decls[1].1.ends_with("bt_inbox_entry *out);"));
}
