// A conversation through the Swift API, as ffi/tests/c/example.c does it in C.
// NOT RUN in CI (no Swift toolchain there). On a Mac, from bindings/swift, after
// `cargo build --release -p bluetick-ffi` at the repository root:
//   DYLD_LIBRARY_PATH=../../target/release swift test -Xlinker -L../../target/release

import Bluetick
import Foundation
import XCTest

final class ConversationTests: XCTestCase {
    let alicePeer = Peer(user: "alice", device: 1)
    let bobPeer = Peer(user: "bob", device: 1)

    func testMessageAndReadReceipt() throws {
        XCTAssertEqual(BluetickLibrary.abiVersion, BluetickLibrary.expectedABIVersion)
        let small = AccountConfig(oneTimePrekeys: 3, oneTimePqPrekeys: 3, lowWaterMark: 2)
        let alice = try Account.createInMemory(storageKey: Data(repeating: 1, count: 32), config: small)
        let bob = try Account.createInMemory(storageKey: Data(repeating: 2, count: 32), config: small)

        // Bob publishes; the relay hands Alice one bundle.
        let upload = try bob.prekeyUpload()
        try PrekeyUpload.verify(upload)
        let (_, bundle) = try PrekeyUpload.takeBundle(from: upload)

        let sent = try alice.encrypt(to: bobPeer, body: Data("hello Bob".utf8), bundle: bundle)
        XCTAssertEqual(try alice.messageStatus(sent.id), .pending)
        XCTAssertEqual(try alice.markSent(sent.id), .sent)
        XCTAssertEqual(try BluetickLibrary.messageId(of: sent.wire), sent.id)

        guard case .message(let message) = try bob.decrypt(from: alicePeer, wire: sent.wire) else {
            return XCTFail("expected a message")
        }
        XCTAssertEqual(message.body, Data("hello Bob".utf8))
        XCTAssertEqual(message.sender, try alice.identity())
        XCTAssertEqual(try bob.inbox().map(\.id), [message.id])
        try bob.acknowledge(message.id)
        XCTAssertTrue(try bob.inbox().isEmpty)

        let receipt = try bob.createReceipt(to: alicePeer, kind: .read, ids: [message.id], nowMs: 2000)
        guard case .receipt(let got) = try alice.decrypt(from: bobPeer, wire: receipt.wire) else {
            return XCTFail("expected a receipt")
        }
        XCTAssertEqual(got.kind, .read)
        XCTAssertEqual(got.timestampMs, 2000)
        XCTAssertEqual(got.updates, [StatusUpdate(id: sent.id, status: .read)])
        XCTAssertEqual(try alice.messageStatus(sent.id), .read)
        XCTAssertEqual(try alice.safetyNumber(with: bobPeer), try bob.safetyNumber(with: alicePeer))

        // Errors come back as their own cases, with the library's message.
        XCTAssertThrowsError(try bob.decrypt(from: alicePeer, wire: sent.wire)) { error in
            XCTAssertEqual((error as? BluetickError)?.isDuplicate, true)
        }
        var tampered = try bob.encrypt(to: alicePeer, body: Data("ok".utf8)).wire
        tampered[tampered.count - 1] ^= 1
        XCTAssertThrowsError(try alice.decrypt(from: bobPeer, wire: tampered)) { error in
            guard case .authenticationFailed? = error as? BluetickError else {
                return XCTFail("expected authenticationFailed, got \(error)")
            }
        }
        XCTAssertThrowsError(try Account.createInMemory(storageKey: Data(count: 31))) { error in
            guard case .invalidArgument(let message)? = error as? BluetickError else {
                return XCTFail("expected invalidArgument, got \(error)")
            }
            XCTAssertFalse(message.isEmpty)
        }
    }

    func testIdentityPolicyIsConsulted() throws {
        let alice = try Account.createInMemory(storageKey: Data(repeating: 1, count: 32))
        let bob1 = try Account.createInMemory(storageKey: Data(repeating: 2, count: 32))
        let bob2 = try Account.createInMemory(storageKey: Data(repeating: 3, count: 32))
        _ = try alice.encrypt(to: bobPeer, body: Data("x".utf8),
                              bundle: try PrekeyUpload.takeBundle(from: bob1.prekeyUpload()).bundle)
        let bundle2 = try PrekeyUpload.takeBundle(from: bob2.prekeyUpload()).bundle
        XCTAssertThrowsError(try alice.encrypt(to: bobPeer, body: Data("y".utf8), bundle: bundle2)) { error in
            XCTAssertEqual((error as? BluetickError)?.status, 33)  // BT_UNTRUSTED_IDENTITY
        }
        var asked: [Data] = []
        try alice.setIdentityPolicy { peer, _, newKey in
            asked.append(newKey)
            return peer.user == Data("bob".utf8)
        }
        _ = try alice.encrypt(to: bobPeer, body: Data("y".utf8), bundle: bundle2)
        XCTAssertEqual(asked, [try bob2.identity()])
        XCTAssertEqual(try alice.peerIdentity(bobPeer), try bob2.identity())
    }
}
