// Helpers at the C boundary: byte inputs as (pointer, length), fixed-size checks, copying
// library memory into `Data`. Every conversion between Swift and C memory is here or in a
// call site that uses these.

import CBluetick
import Foundation

extension Data {
    /// Calls `body` with the bytes as a C byte input: a pointer (nil when empty, which the
    /// C ABI allows only with length 0) and the length. The pointer is valid only inside.
    func withBytes<R>(_ body: (UnsafePointer<UInt8>?, Int) throws -> R) rethrows -> R {
        try withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            try body(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
        }
    }
}

/// Copies `count` bytes of library memory (an empty `Data` for a null or empty pointer).
func copyBytes(_ pointer: UnsafeRawPointer?, _ count: Int) -> Data {
    guard let pointer, count > 0 else { return Data() }
    return Data(bytes: pointer, count: count)
}

/// The bytes of a C fixed-size array (imported as a tuple), such as `bt_incoming.id`.
func bytes<T>(ofTuple value: T) -> Data {
    withUnsafeBytes(of: value) { Data($0) }
}

extension bt_buffer {
    /// A copy of the bytes; the buffer itself is still freed by `bt_buffer_free`.
    var bytes: Data { copyBytes(ptr, len) }
}

/// Checks a fixed-size input here, because C reads exactly `count` bytes from it.
func fixed(_ data: Data, _ count: Int32, _ name: String) throws -> Data {
    guard data.count == Int(count) else {
        throw invalidArgument("\(name) must be \(count) bytes, not \(data.count)")
    }
    return data
}

/// 16-byte message ids, concatenated for an `ids` / `id_count` input.
func joinedIds(_ ids: [Data], _ name: String) throws -> Data {
    var joined = Data(capacity: ids.count * Int(BT_MESSAGE_ID_LEN))
    for id in ids {
        joined.append(try fixed(id, BT_MESSAGE_ID_LEN, name))
    }
    return joined
}

/// Milliseconds since the Unix epoch, now.
func currentTimeMs() -> UInt64 {
    UInt64(Date().timeIntervalSince1970 * 1000)
}
