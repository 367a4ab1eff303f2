#!/usr/bin/env bash
# Checks what `cargo package` would publish for the two crates, bluetick and bluetick-ffi:
# each holds its sources, README and both licenses (bluetick-ffi also its C header) and
# nothing else: no bindings, vectors, fuzz targets, tests, test data, benches or docs.
# Fails, naming the file, when the list drifts (a new top-level file, a changed `include`).
# Runs `cargo package --list`, which reads the manifests only: it builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Files cargo adds to every package.
generated='^(Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json)$'
failed=0

check() {
  local crate="$1" allowed="$2"
  shift 2
  local list
  if ! list="$(cargo package --list --allow-dirty --quiet -p "$crate" 2>&1)"; then
    printf '%s\n' "$list" >&2
    echo "check-package: cargo package --list -p $crate failed" >&2
    exit 1
  fi
  local count=0
  while IFS= read -r file; do
    [ -n "$file" ] || continue
    count=$((count + 1))
    if [[ ! "$file" =~ $generated && ! "$file" =~ $allowed ]]; then
      echo "check-package: $crate would publish $file, which is not among its sources" >&2
      failed=1
    fi
    case "$file" in
      bindings/* | vectors/* | fuzz/* | tests/* | benches/* | docs/* | examples/* | scripts/*)
        echo "check-package: $crate would publish $file (repository-only)" >&2
        failed=1
        ;;
    esac
  done <<<"$list"
  for required in "$@"; do
    if ! grep -qxF "$required" <<<"$list"; then
      echo "check-package: $crate would not publish $required" >&2
      failed=1
    fi
  done
  echo "check-package: $crate: $count files"
}

check bluetick '^(src/.+\.rs|README\.md|LICENSE-APACHE|LICENSE-MIT)$' \
  src/lib.rs README.md LICENSE-APACHE LICENSE-MIT
check bluetick-ffi '^(src/[a-z_]+\.rs|include/bluetick\.h|README\.md|LICENSE-APACHE|LICENSE-MIT)$' \
  src/lib.rs include/bluetick.h README.md LICENSE-APACHE LICENSE-MIT

# bluetick-ffi's licenses are links to the root's: the published files are the same texts.
for license in LICENSE-APACHE LICENSE-MIT; do
  if ! cmp -s "$license" "ffi/$license"; then
    echo "check-package: ffi/$license differs from $license" >&2
    failed=1
  fi
done
grep -q 'Apache License' LICENSE-APACHE && grep -q 'Version 2.0, January 2004' LICENSE-APACHE ||
  { echo "check-package: LICENSE-APACHE is not the Apache License 2.0 text" >&2; failed=1; }
grep -q '^MIT License$' LICENSE-MIT && grep -q 'Permission is hereby granted, free of charge' LICENSE-MIT ||
  { echo "check-package: LICENSE-MIT is not the MIT license text" >&2; failed=1; }

if [ "$failed" -ne 0 ]; then
  echo "check-package: FAILED (fix \`include\` in the crate's Cargo.toml)" >&2
  exit 1
fi
echo "check-package: both crates hold only their sources, README, licenses (and header)"
