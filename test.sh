#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, the Rust suites (with the demo, the
# crash and two-process tests), rustdoc, the C suite under sanitizers and valgrind, Miri,
# fuzz smoke runs, the Kotlin and Python bindings (with a newcomer's install of each), and the
# independent Python checker of the test vectors.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

step "tools: clippy and rustfmt; nightly with Miri and cargo-fuzz for the Miri and fuzz steps; nats-server for the relay's NATS tests"
rustup component add clippy rustfmt >/dev/null 2>&1 || echo "could not add clippy and rustfmt with rustup"
if cargo +nightly --version >/dev/null 2>&1; then
  rustup +nightly component add miri rust-src >/dev/null 2>&1 || echo "could not add miri and rust-src to nightly"
  # cargo-fuzz only drives cargo: a debug build of it installs in about half the time.
  cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet --debug || echo "could not install cargo-fuzz"
else
  echo "no nightly toolchain (rustup toolchain install nightly): the Miri and fuzz steps will say they did not run"
fi

if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  # The relay's NATS tests start nats-server processes of their own; without one they say
  # SKIPPED. Installing needs root and Debian's apt.
  { apt-get update && apt-get install -y nats-server; } >/dev/null 2>&1 \
    || echo "could not install nats-server (apt-get install nats-server): the relay's NATS tests will say SKIPPED"
fi

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "Rust tests (release: the crypto is slow unoptimised)"
# The generator crate is tested in the dev profile, the one maturin and the Kotlin build
# run it in, so the bindings steps find it built; a release build of it would compile the
# largest crates of the graph a second time for nothing.
cargo test --release --workspace --exclude bluetick-bindgen
cargo test -p bluetick-bindgen

step "rustdoc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --quiet

step "C ABI: the C suite, under AddressSanitizer and UndefinedBehaviorSanitizer, and under valgrind"
bash ffi/tests/run-c-tests.sh

step "crate packages: sources, README and licenses only (scripts/check-package.sh)"
bash scripts/check-package.sh

step "Miri over the C ABI's pointer, buffer, handle and error code"
if cargo +nightly miri --version >/dev/null 2>&1; then
  bash ffi/tests/run-miri.sh
else
  echo "Miri NOT run: it needs nightly Rust with the miri and rust-src components"
fi

step "fuzz smoke runs"
fuzz/smoke.sh

step "bindings generated with UniFFI: Python (pytest) and Kotlin (JUnit 5) suites"
# Both reuse the workspace's target dir and the same cargo commands (maturin's), so the
# second finds the native library built; the Swift layer and the consistency of every
# language with the Rust API were checked by the Rust tests above (bluetick-bindgen).
if ! python3 -c 'import pytest' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check pytest
fi
python3 -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./bindings/python
python3 -m pytest -q bindings/python/tests
mvn -q -f bindings/kotlin/pom.xml test

step "newcomer: a fresh virtualenv and a fresh Maven project run the chat, no path variable"
bash bindings/newcomer/run.sh

step "independent vector checker (Python)"
if ! python3 -c 'import nacl, cryptography, kyber_py' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check -r vectors/requirements.txt
fi
python3 -m pytest -q vectors
