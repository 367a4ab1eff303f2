// swift-tools-version:5.9
// Bluetick for Swift (iOS, macOS): add https://<this repository> as a package dependency and
// import `Bluetick`. The Swift layer (bindings/swift/Sources/Bluetick) is generated with
// UniFFI from bindings/uniffi; the native library comes as the `BluetickFFI` XCFramework.
//
// NOT COMPILED IN CI (no Swift toolchain there): see bindings/swift/README.md.
//
// `BluetickFFI` is a binary target:
// - releases: the zipped XCFramework attached to the release (`url` and `checksum` below,
//   written by the release from bindings/swift/scripts/build-xcframework.sh's output);
// - a checkout: `BluetickFFI.xcframework` at the repository root, built by that script,
//   used whenever it is present.
import Foundation
import PackageDescription

let version = "0.1.0"
let releaseURL = "https://github.com/bluetick/bluetick/releases/download/v\(version)/BluetickFFI.xcframework.zip"
let releaseChecksum = "0000000000000000000000000000000000000000000000000000000000000000"

let localFramework = "BluetickFFI.xcframework"
let ffi: Target = FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + localFramework)
    ? .binaryTarget(name: "BluetickFFI", path: localFramework)
    : .binaryTarget(name: "BluetickFFI", url: releaseURL, checksum: releaseChecksum)

let package = Package(
    name: "Bluetick",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Bluetick", targets: ["Bluetick"]),
    ],
    targets: [
        ffi,
        .target(name: "Bluetick", dependencies: ["BluetickFFI"], path: "bindings/swift/Sources/Bluetick"),
        .testTarget(name: "BluetickTests", dependencies: ["Bluetick"], path: "bindings/swift/Tests/BluetickTests"),
    ]
)
