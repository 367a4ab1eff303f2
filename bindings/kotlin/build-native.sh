#!/usr/bin/env bash
# Builds what the Kotlin artifact is made of, from the UniFFI definition crate: the native
# library (release), copied where JNA finds it inside the jar (`<os>-<arch>/`), and the
# Kotlin layer generated from that library by the workspace's uniffi-bindgen. Maven runs it
# in generate-sources; it uses CARGO_TARGET_DIR when set, else the workspace's target/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/target"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

case "$(uname -s)" in
  Linux) os=linux; lib=libbluetick_uniffi.so ;;
  Darwin) os=darwin; lib=libbluetick_uniffi.dylib ;;
  *) echo "build-native.sh: unsupported host $(uname -s); see README.md for other platforms" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86-64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) arch="$(uname -m)" ;;
esac

cd "$root"
# The same two cargo commands as maturin's build of the Python wheel, so that whichever of
# the two bindings is built second finds everything compiled: the library alone in release
# (selecting the generator's package too would change the features cargo resolves, and
# rebuild the graph), and the workspace's generator binary as maturin runs it.
cargo build --quiet --release -p bluetick-uniffi
# The relay process RelayProcessTest talks to. The workspace's tests build it too; built here
# on its own (never with the crate above, whose features it would change) when missing.
if [ ! -x "$target_dir/release/bluetick-relay" ]; then
  cargo build --quiet --release -p bluetick-relay
fi
rm -rf "$out/generated-sources/uniffi" "$out/native"
mkdir -p "$out/native/$os-$arch"
cargo run --quiet --bin uniffi-bindgen -- generate --no-format --language kotlin \
  --library "$target_dir/release/$lib" --out-dir "$out/generated-sources/uniffi"
cp "$target_dir/release/$lib" "$out/native/$os-$arch/$lib"
