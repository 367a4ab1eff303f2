// swift-tools-version:5.9
// Bluetick for Swift: the `Bluetick` module over the C ABI module `CBluetick`.
//
// NOT COMPILED IN CI (no Swift toolchain there): see README.md.
//
// `CBluetick` comes from one of two places:
// - `CBluetick.xcframework` beside this file, if present (built by
//   scripts/build-xcframework.sh for iOS device and simulator): a `.binaryTarget`. SwiftPM
//   requires the file name to equal the target name, hence `CBluetick.xcframework`.
// - otherwise `Sources/CBluetick`: a `.systemLibrary` module map over the header copy that
//   links `-lbluetick_ffi`, for `swift build` / `swift test` on a Mac against a host build
//   (`swift build -Xlinker -L../../target/release`).
import Foundation
import PackageDescription

let xcframework = "CBluetick.xcframework"
let haveXCFramework = FileManager.default.fileExists(
    atPath: Context.packageDirectory + "/" + xcframework)

let cBluetick: Target = haveXCFramework
    ? .binaryTarget(name: "CBluetick", path: xcframework)
    : .systemLibrary(name: "CBluetick", path: "Sources/CBluetick")

let package = Package(
    name: "Bluetick",
    platforms: [.iOS(.v13), .macOS(.v11)],
    products: [
        .library(name: "Bluetick", targets: ["Bluetick"]),
    ],
    targets: [
        cBluetick,
        .target(name: "Bluetick", dependencies: ["CBluetick"], path: "Sources/Bluetick"),
        // Runs against a host build of the library (the .systemLibrary form); see README.md.
        .testTarget(name: "BluetickTests", dependencies: ["Bluetick"], path: "Tests/BluetickTests"),
    ]
)
