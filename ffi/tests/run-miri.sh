#!/usr/bin/env bash
# Runs the bluetick-ffi unit tests under Miri: buffers, pointer and null checks, handles,
# status mapping, last-error storage, the panic boundary and the relay client handle,
# checked for undefined behaviour. The tests that create a real account are skipped there
# (libcrux's CPU detection is inline assembly, which Miri cannot run). Honours
# CARGO_TARGET_DIR.
# Needs nightly with Miri: rustup toolchain install nightly --component miri rust-src
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "run-miri.sh: needs Miri: rustup toolchain install nightly --component miri rust-src" >&2
  exit 1
fi
export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-strict-provenance"
cargo +nightly miri setup
cargo +nightly miri test -p bluetick-ffi --lib
