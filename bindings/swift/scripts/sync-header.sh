#!/usr/bin/env bash
# Keeps Sources/CBluetick/bluetick.h equal to the generated ffi/include/bluetick.h.
#   scripts/sync-header.sh          copy the header in
#   scripts/sync-header.sh --check  exit 1 if the copy differs (for CI)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source="$here/../../ffi/include/bluetick.h"
copy="$here/Sources/CBluetick/bluetick.h"
if [[ "${1:-}" == "--check" ]]; then
  if ! cmp -s "$source" "$copy"; then
    echo "bindings/swift/Sources/CBluetick/bluetick.h differs from ffi/include/bluetick.h:" >&2
    echo "run bindings/swift/scripts/sync-header.sh, then review the Swift wrapper" >&2
    exit 1
  fi
  echo "bluetick.h copy is in sync"
else
  cp "$source" "$copy"
  echo "copied ffi/include/bluetick.h to $copy"
fi
