#!/usr/bin/env bash
# Builds bindings/swift/CBluetick.xcframework (iOS device + simulator) from the Rust crate.
# NOT RUN on this project's Linux machines or CI: it needs macOS with Xcode (xcodebuild,
# lipo, the iOS SDKs). See README.md, "XCFramework for iOS".
set -euo pipefail

swift_dir="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$swift_dir/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out="$target_dir/xcframework"
cd "$repo"

rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-13.0}"

# 1. One static library per target (the crate's crate-type includes "staticlib").
for target in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  cargo build --release -p bluetick-ffi --target "$target"
done

# 2. The simulator slices (Apple silicon, Intel) in one fat library: an XCFramework takes
#    one library per platform variant.
rm -rf "$out"
mkdir -p "$out/ios-simulator" "$out/include"
lipo -create \
  "$target_dir/aarch64-apple-ios-sim/release/libbluetick_ffi.a" \
  "$target_dir/x86_64-apple-ios/release/libbluetick_ffi.a" \
  -output "$out/ios-simulator/libbluetick_ffi.a"

# 3. Headers: the generated header and a module map naming the module CBluetick (no
#    `link` line: Xcode links the XCFramework's library itself).
cp ffi/include/bluetick.h "$out/include/bluetick.h"
cat > "$out/include/module.modulemap" <<'MAP'
module CBluetick {
    header "bluetick.h"
    export *
}
MAP

# 4. The XCFramework, named like its SwiftPM binary target (SwiftPM requires that).
rm -rf "$swift_dir/CBluetick.xcframework"
xcodebuild -create-xcframework \
  -library "$target_dir/aarch64-apple-ios/release/libbluetick_ffi.a" -headers "$out/include" \
  -library "$out/ios-simulator/libbluetick_ffi.a" -headers "$out/include" \
  -output "$swift_dir/CBluetick.xcframework"
echo "built $swift_dir/CBluetick.xcframework"
