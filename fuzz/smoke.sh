#!/usr/bin/env bash
# Runs every fuzz target for a short smoke run (default 5 s each, two at a time) from the
# checked-in corpus, without changing it. Needs nightly Rust and cargo-fuzz; says so when
# they are missing instead of failing.
#
# The smoke build trades a little fuzzing speed for a much shorter build: 16 codegen units
# and no debug info (a long campaign uses `cargo fuzz run -O <target>` with the fuzz
# profile's defaults instead).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-5}
jobs=${FUZZ_JOBS:-2}
if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz smoke runs NOT run: they need nightly Rust and cargo-fuzz (rustup toolchain install nightly; cargo install cargo-fuzz)"
  exit 0
fi
export CARGO_PROFILE_RELEASE_DEBUG=0
build_flags=(-O --codegen-units 16)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build "${build_flags[@]}"
targets=$(cargo +nightly fuzz list)

# One target's run; its verdict goes to $scratch/<target>.verdict.
run_one() {
  local t=$1
  mkdir -p "$scratch/$t" "corpus/$t"
  if cargo +nightly fuzz run "${build_flags[@]}" "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$scratch/$t.log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz $t ... ok ($runs runs in ${seconds}s)" >"$scratch/$t.verdict"
  else
    { echo "fuzz $t ... FAILED"; tail -30 "$scratch/$t.log"; } >"$scratch/$t.verdict"
  fi
}

running=0
for t in $targets; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
for t in $targets; do
  cat "$scratch/$t.verdict"
  grep -q ' ok (' "$scratch/$t.verdict" || failed=$((failed + 1))
done
echo "fuzz smoke: $(( $(echo "$targets" | wc -w) - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
