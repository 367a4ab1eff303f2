#!/usr/bin/env bash
# Builds bluetick-ffi in release, runs the build lines of docs/ffi.md as they are (the
# example linked statically, and against the shared library through an rpath), and runs
# the C suite (ffi/tests/c) against the library three ways:
#   1. plain, linked against the static library (and the docs example, too);
#   2. under AddressSanitizer + UndefinedBehaviorSanitizer, linked against the shared library;
#   3. the plain binary under valgrind: zero errors and zero definite or indirect leaks.
# Honours CARGO_TARGET_DIR. Needs gcc and valgrind. Exits non-zero on any failure; the last
# line is the suite's "N passed, M failed".
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

for tool in cargo gcc valgrind; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run-c-tests.sh: '$tool' is required (apt-get install -y gcc valgrind)" >&2
    exit 1
  fi
done

# bt_test_panic panics on purpose: keep its report to one line.
export RUST_BACKTRACE=0
start=$SECONDS
step() { printf '\n== %s (%ds)\n' "$*" "$((SECONDS - start))"; }

step "cargo build --release -p bluetick-ffi"
cargo build --release -p bluetick-ffi

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
lib="$target/release"
out="$target/c-tests"
mkdir -p "$out"
if [ ! -f "$lib/libbluetick_ffi.a" ] || [ ! -f "$lib/libbluetick_ffi.so" ]; then
  echo "run-c-tests.sh: no libbluetick_ffi.{a,so} in $lib" >&2
  exit 1
fi

cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -I "$here/../include" -I "$here/c")
static_libs=("$lib/libbluetick_ffi.a" -lpthread -ldl -lm)
shared_libs=(-L "$lib" -lbluetick_ffi -Wl,-rpath,"$lib" -lpthread)
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

step "gcc: conversation (static), example (static), conversation (ASan+UBSan, shared), attachments, relay"
gcc "${cflags[@]}" -pthread "$here/c/conversation.c" "${static_libs[@]}" -o "$out/conversation"
gcc "${cflags[@]}" "$here/c/example.c" "${static_libs[@]}" -o "$out/example"
gcc "${cflags[@]}" -pthread "${sanitize[@]}" "$here/c/conversation.c" "${shared_libs[@]}" \
  -o "$out/conversation-asan"
gcc "${cflags[@]}" "$here/c/attachments.c" "${static_libs[@]}" -o "$out/attachments"
gcc "${cflags[@]}" "${sanitize[@]}" "$here/c/attachments.c" "${shared_libs[@]}" \
  -o "$out/attachments-asan"
gcc "${cflags[@]}" "$here/c/relay.c" "${static_libs[@]}" -o "$out/relay"
gcc "${cflags[@]}" "${sanitize[@]}" "$here/c/relay.c" "${shared_libs[@]}" -o "$out/relay-asan"

step "docs/ffi.md: the build lines under \"Building\", as written there"
# The fenced sh block after the marker comment, run from the repository root. Its outputs
# (example-static, example-shared) are removed afterwards.
docs_build="$out/docs-build.sh"
awk '/^<!-- build lines:/ { marked = 1; next }
     marked && /^```sh$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' docs/ffi.md >"$docs_build"
if ! grep -q -- '-Wl,-rpath,' "$docs_build"; then
  echo "run-c-tests.sh: no build lines with an rpath found in docs/ffi.md" >&2
  exit 1
fi
if [ "$target" != "$root/target" ]; then
  # The docs build into ./target; follow CARGO_TARGET_DIR instead.
  sed -i "s|target/release|$lib|g; s|\"\$PWD/$lib\"|\"$lib\"|g" "$docs_build"
fi
trap 'rm -f "$root/example-static" "$root/example-shared"' EXIT
cat "$docs_build"
(cd "$root" && bash -euo pipefail "$docs_build")
rm -f "$root/example-static" "$root/example-shared"

if command -v g++ >/dev/null 2>&1; then
  step "g++: the header compiles as C++"
  printf '#include "bluetick.h"\nint main() { return bt_abi_version() == BT_ABI_VERSION ? 0 : 1; }\n' \
    >"$out/header-check.cpp"
  g++ -std=c++17 -Wall -Wextra -Werror -I "$here/../include" -fsyntax-only "$out/header-check.cpp"
fi

step "example"
"$out/example"

step "conversation"
"$out/conversation"

step "conversation under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$out/conversation-asan"

step "conversation under valgrind"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect --error-exitcode=1 "$out/conversation" \
  >"$out/valgrind.out"
cat "$out/valgrind.out"

step "attachments, under ASan+UBSan, under valgrind"
"$out/attachments"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$out/attachments-asan"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect --error-exitcode=1 "$out/attachments"

step "relay client, under ASan+UBSan, under valgrind"
"$out/relay"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$out/relay-asan"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect --error-exitcode=1 "$out/relay"

step "done in $((SECONDS - start))s"
tail -n 1 "$out/valgrind.out"
