// The conversation of the Kotlin and Python suites, in Swift. Runs on a Mac against a host
// build (see README.md); not compiled in CI, which has no Swift toolchain.
import XCTest
@testable import Bluetick

final class ConversationTests: XCTestCase {
    func testTwoAccountsConverse() throws {
        let config = AccountConfig(oneTimePrekeys: 3, oneTimePqPrekeys: 3, lowWaterMark: 2)
        let alice = try Account.createMemory(storageKey: Data(repeating: 0x11, count: 32), config: config)
        let bob = try Account.createMemory(storageKey: Data(repeating: 0x22, count: 32), config: config)
        let a = Address(user: Data("alice".utf8), device: 1)
        let b = Address(user: Data("bob".utf8), device: 1)

        let relay = try PreKeyUpload.fromBytes(bytes: try bob.prekeyUpload().toBytes())
        let hello = try alice.encrypt(peer: b, body: Data("hi Bob".utf8), bundle: relay.takeBundle(),
                                      nowMs: 1_767_225_600_000)
        XCTAssertEqual(try alice.markSent(id: hello.id), .sent)
        let got = try bob.decrypt(peer: a, wire: hello.wire)
        guard case let .message(id, lamport, sentAtMs, body) = got.received else { return XCTFail("not a message") }
        XCTAssertEqual(lamport, hello.lamport)
        XCTAssertEqual(sentAtMs, 1_767_225_600_000)
        XCTAssertEqual(id, hello.id)
        XCTAssertEqual(body, Data("hi Bob".utf8))
        try bob.acknowledge(id: hello.id)

        let read = try bob.createReceipt(peer: a, kind: .read, ids: [hello.id], nowMs: 0)
        _ = try alice.decrypt(peer: b, wire: read.wire)
        XCTAssertEqual(try alice.messageStatus(id: hello.id), .read)

        XCTAssertThrowsError(try alice.decrypt(peer: b, wire: read.wire)) { error in
            guard case let AccountError.Decryption(kind, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(kind, .duplicateMessage)
        }
    }
}
