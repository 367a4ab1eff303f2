#!/usr/bin/env bash
# Runs every benchmark of docs/performance.md: the protocol against its primitive floors,
# the sizes, the Account over SQLite, the C ABI against Rust, and the comparison with
# vodozemac (a standalone workspace in benches/peers).
# Extra arguments go to criterion, e.g. `bash benches/run.sh --measurement-time 5`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/bench-target}"
args=(--warm-up-time 1 --measurement-time 3 "$@")
nice -n 10 cargo bench --bench protocol -- "${args[@]}"
nice -n 10 cargo bench --bench sizes
nice -n 10 cargo bench --bench account -- "${args[@]}"
nice -n 10 cargo bench --bench account_memory -- "${args[@]}"
nice -n 10 cargo bench --bench attachments -- "${args[@]}"
nice -n 10 cargo bench --bench groups -- "${args[@]}"
nice -n 10 cargo bench -p bluetick-ffi --bench abi -- "${args[@]}"
nice -n 10 cargo bench --manifest-path benches/peers/Cargo.toml -- "${args[@]}"
