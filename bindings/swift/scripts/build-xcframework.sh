#!/usr/bin/env bash
# Builds BluetickFFI.xcframework (iOS device and simulator, macOS) from the UniFFI
# definition crate: the static library of each target with the generated C declarations and
# module map. NOT RUN on this project's Linux machines or CI: it needs macOS with Xcode
# (xcodebuild, lipo, the SDKs). See README.md, "XCFramework".
set -euo pipefail

swift_dir="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$swift_dir/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out="$target_dir/xcframework"
cd "$repo"

targets="aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin"
rustup target add $targets
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
export MACOSX_DEPLOYMENT_TARGET="${MACOSX_DEPLOYMENT_TARGET:-12.0}"

# 1. One static library per target.
for target in $targets; do
  cargo rustc --release -p bluetick-uniffi --target "$target" --crate-type staticlib
done

# 2. Fat libraries per platform variant (an XCFramework takes one per variant).
rm -rf "$out"
mkdir -p "$out/ios-simulator" "$out/macos" "$out/include"
lipo -create "$target_dir/aarch64-apple-ios-sim/release/libbluetick_uniffi.a" \
  "$target_dir/x86_64-apple-ios/release/libbluetick_uniffi.a" -output "$out/ios-simulator/libbluetick_uniffi.a"
lipo -create "$target_dir/aarch64-apple-darwin/release/libbluetick_uniffi.a" \
  "$target_dir/x86_64-apple-darwin/release/libbluetick_uniffi.a" -output "$out/macos/libbluetick_uniffi.a"

# 3. Headers: the checked-in generated declarations and module map (module BluetickFFI).
cp "$swift_dir/Sources/BluetickFFI/BluetickFFI.h" "$out/include/"
cp "$swift_dir/Sources/BluetickFFI/module.modulemap" "$out/include/module.modulemap"

# 4. The XCFramework, named like the binary target of Package.swift, and its zip with the
#    checksum a release puts in Package.swift.
rm -rf "$repo/BluetickFFI.xcframework" "$repo/BluetickFFI.xcframework.zip"
xcodebuild -create-xcframework \
  -library "$target_dir/aarch64-apple-ios/release/libbluetick_uniffi.a" -headers "$out/include" \
  -library "$out/ios-simulator/libbluetick_uniffi.a" -headers "$out/include" \
  -library "$out/macos/libbluetick_uniffi.a" -headers "$out/include" \
  -output "$repo/BluetickFFI.xcframework"
(cd "$repo" && zip -qry BluetickFFI.xcframework.zip BluetickFFI.xcframework)
echo "built $repo/BluetickFFI.xcframework"
echo "checksum for Package.swift: $(cd "$repo" && swift package compute-checksum BluetickFFI.xcframework.zip)"
