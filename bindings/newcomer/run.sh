#!/usr/bin/env bash
# The newcomer test: what a new user does, with no path variable or flag.
# 1. A fresh virtualenv installs ./bindings/python (maturin builds the wheel with the native
#    library inside) and runs chat.py from outside the checkout.
# 2. `mvn install` puts org.bluetick:bluetick-kotlin into ~/.m2; a fresh Maven project
#    (a copy of kotlin/ in a temporary folder) depends on it and runs the same chat.
# Both builds reuse the workspace's target dir (CARGO_TARGET_DIR) so this stays fast.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
unset BLUETICK_LIB BLUETICK_VECTORS
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "$root/bindings/python"
(cd "$tmp" && "$tmp/venv/bin/python" "$here/chat.py")

mvn -q -f "$root/bindings/kotlin/pom.xml" install -DskipTests
cp -r "$here/kotlin" "$tmp/app"
(cd "$tmp/app" && mvn -q compile exec:java)
