#!/usr/bin/env bash
# Regenerates the Swift layer (Sources/Bluetick/Bluetick.swift) and the C declarations it
# calls (Sources/BluetickFFI/) from the UniFFI definition crate. The files are checked in;
# `cargo test -p bluetick-bindgen --test generated` fails when they differ from a fresh
# generation (BLUETICK_WRITE_SWIFT=1 on that test rewrites them too).
set -euo pipefail
swift_dir="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$swift_dir/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"
cargo build --quiet --release -p bluetick-uniffi -p bluetick-bindgen
lib="$target_dir/release/libbluetick_uniffi.so"
[ -f "$lib" ] || lib="$target_dir/release/libbluetick_uniffi.dylib"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$target_dir/release/uniffi-bindgen" generate --no-format --language swift --library "$lib" --out-dir "$tmp"
cp "$tmp/Bluetick.swift" "$swift_dir/Sources/Bluetick/Bluetick.swift"
cp "$tmp/BluetickFFI.h" "$swift_dir/Sources/BluetickFFI/BluetickFFI.h"
cp "$tmp/BluetickFFI.modulemap" "$swift_dir/Sources/BluetickFFI/module.modulemap"
