#!/usr/bin/env bash
# Runs every fuzz target for a short smoke run (default 10 s each) from the checked-in
# corpus, without changing it. Needs nightly Rust and cargo-fuzz; says so when they are
# missing instead of failing.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-10}
if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz smoke runs NOT run: they need nightly Rust and cargo-fuzz (rustup toolchain install nightly; cargo install cargo-fuzz)"
  exit 0
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build -O
failed=0
for t in $(cargo +nightly fuzz list); do
  mkdir -p "$scratch/$t" "corpus/$t"
  if cargo +nightly fuzz run -O "$t" "$scratch/$t" "corpus/$t" -- -max_total_time="$seconds" -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$scratch/$t.log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz $t ... ok ($runs runs in ${seconds}s)"
  else
    echo "fuzz $t ... FAILED"
    tail -30 "$scratch/$t.log"
    failed=$((failed + 1))
  fi
done
echo "fuzz smoke: $(( $(cargo +nightly fuzz list | wc -l) - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
