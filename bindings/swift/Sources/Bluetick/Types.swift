// The values the API passes around: plain Swift data copied out of the library (no native
// memory behind any of them), and enums of the header's constants.

import CBluetick
import Foundation

/// A peer: the app's user id (at most 1024 bytes) and a device number.
public struct Peer: Hashable, Sendable {
    public let user: Data
    public let device: UInt32

    public init(user: Data, device: UInt32) {
        self.user = user
        self.device = device
    }

    /// A user id given as a string, sent as its UTF-8 bytes.
    public init(user: String, device: UInt32) {
        self.init(user: Data(user.utf8), device: device)
    }
}

/// The status of an outgoing message (`BT_MESSAGE_*`); it only moves forward.
public enum MessageStatus: UInt8, Sendable, Comparable {
    /// Encrypted, not yet acknowledged by the relay.
    case pending = 0
    /// The relay acknowledged it (one grey tick).
    case sent = 1
    /// A delivery receipt arrived (two grey ticks).
    case delivered = 2
    /// A read receipt arrived (two blue ticks).
    case read = 3

    public static func < (a: MessageStatus, b: MessageStatus) -> Bool { a.rawValue < b.rawValue }
}

/// A receipt kind (`BT_RECEIPT_*`). Deniable kinds are authenticated by the session alone.
public enum ReceiptKind: UInt8, Sendable {
    case delivered = 1
    case read = 2
    case deniableDelivered = 129
    case deniableRead = 130

    public var isDeniable: Bool { self == .deniableDelivered || self == .deniableRead }
}

/// How many prekeys an account keeps published (`bt_account_config`).
public struct AccountConfig: Equatable, Sendable {
    public var oneTimePrekeys: UInt32
    public var oneTimePqPrekeys: UInt32
    public var lowWaterMark: UInt32

    public init(oneTimePrekeys: UInt32 = 50, oneTimePqPrekeys: UInt32 = 50, lowWaterMark: UInt32 = 10) {
        self.oneTimePrekeys = oneTimePrekeys
        self.oneTimePqPrekeys = oneTimePqPrekeys
        self.lowWaterMark = lowWaterMark
    }

    /// The library's defaults, from `bt_account_config_default`.
    public static func libraryDefault() throws -> AccountConfig {
        var native = bt_account_config()
        try check(bt_account_config_default(&native))
        return AccountConfig(
            oneTimePrekeys: native.one_time_prekeys,
            oneTimePqPrekeys: native.one_time_pq_prekeys,
            lowWaterMark: native.low_water_mark)
    }

    var native: bt_account_config {
        bt_account_config(
            one_time_prekeys: oneTimePrekeys,
            one_time_pq_prekeys: oneTimePqPrekeys,
            low_water_mark: lowWaterMark)
    }
}

/// How many one-time prekeys the account still holds, and whether to replenish.
public struct PrekeyCounts: Equatable, Sendable {
    public let oneTimePrekeys: UInt32
    public let oneTimePqPrekeys: UInt32
    public let low: Bool
}

/// An encrypted outgoing message: its 16-byte id and the wire bytes for the relay.
public struct Sent: Sendable {
    public let id: Data
    public let wire: Data
}

/// An application message, now in the account's inbox until acknowledged.
public struct Message: Sendable {
    /// The message id: acknowledge it, and put it in receipts.
    public let id: Data
    public let peer: Peer
    /// The sender's identity key (32 bytes).
    public let sender: Data
    public let body: Data
    /// One-time prekeys ran low: call `replenishPrekeys()` and upload the result.
    public let replenishPrekeys: Bool
}

/// A message whose status a receipt moved forward.
public struct StatusUpdate: Equatable, Sendable {
    public let id: Data
    public let status: MessageStatus
}

/// A receipt, already applied to the statuses it names.
public struct Receipt: Sendable {
    /// The id of the receipt's own wire message.
    public let id: Data
    public let peer: Peer
    public let sender: Data
    public let kind: ReceiptKind
    /// The sender's clock when it made the receipt (ms since the Unix epoch).
    public let timestampMs: UInt64
    /// The messages whose status moved forward; empty for a receipt that came late or twice.
    public let updates: [StatusUpdate]
    public let replenishPrekeys: Bool
}

/// What `decrypt` received.
public enum Incoming: Sendable {
    case message(Message)
    case receipt(Receipt)
}

/// A received message not yet acknowledged.
public struct InboxEntry: Sendable {
    public let id: Data
    public let peer: Peer
    public let body: Data
}

/// The library's version and ABI, and wire message ids. (Not named `Bluetick`: a type
/// named like its module breaks module-qualified names.)
public enum BluetickLibrary {
    /// The ABI version this binding was written against (`BT_ABI_VERSION`).
    public static let expectedABIVersion: UInt32 = UInt32(BT_ABI_VERSION)

    /// The loaded library's ABI version; compare with `expectedABIVersion` at startup.
    public static var abiVersion: UInt32 { bt_abi_version() }

    /// The library's version, such as `"0.1.0"`.
    public static var version: String { String(cString: bt_version()) }

    /// Makes the library panic on purpose (`bt_test_panic`): always throws
    /// `BluetickError.panic`, so an app can check that it copes with the library's
    /// last-resort error. The process goes on.
    public static func testPanic() throws {
        try check(bt_test_panic())
    }

    /// The 16-byte id of a wire message, as sender, recipient and relay compute it.
    ///
    /// C: `bt_message_id_of(wire, wire_len, out_id[16])`.
    public static func messageId(of wire: Data) throws -> Data {
        var id = [UInt8](repeating: 0, count: Int(BT_MESSAGE_ID_LEN))
        try wire.withBytes { ptr, len in
            try check(bt_message_id_of(ptr, len, &id))
        }
        return Data(id)
    }
}
