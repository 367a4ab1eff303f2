// Relay helpers on prekey upload bytes (`bt_prekey_upload_*`): for a relay written in
// Swift, and for tests that stand in for the relay.

import CBluetick
import Foundation

public enum PrekeyUpload {
    /// Strictly parses upload bytes and checks every signature and key in them; throws if
    /// the relay should refuse them.
    ///
    /// C: `bt_prekey_upload_verify(upload, upload_len)`.
    public static func verify(_ upload: Data) throws {
        try upload.withBytes { ptr, len in
            try check(bt_prekey_upload_verify(ptr, len))
        }
    }

    /// Hands out one bundle from a device's published prekeys (consuming one one-time
    /// prekey of each kind if any is left): the upload to store in place of `upload`, and
    /// the bundle to give the peer.
    ///
    /// C: `bt_prekey_upload_take_bundle(upload, upload_len, &remaining, &bundle)`; both
    /// buffers freed here with `bt_buffer_free`, whatever happens.
    public static func takeBundle(from upload: Data) throws -> (remaining: Data, bundle: Data) {
        var remaining = bt_buffer()
        var bundle = bt_buffer()
        defer {
            bt_buffer_free(&remaining)
            bt_buffer_free(&bundle)
        }
        try upload.withBytes { ptr, len in
            try check(bt_prekey_upload_take_bundle(ptr, len, &remaining, &bundle))
        }
        return (remaining.bytes, bundle.bytes)
    }

    /// Applies a later upload of the same device (replenish, rotation) to the stored one.
    ///
    /// C: `bt_prekey_upload_merge(older, older_len, newer, newer_len, &merged)`.
    public static func merge(older: Data, newer: Data) throws -> Data {
        var merged = bt_buffer()
        defer { bt_buffer_free(&merged) }
        try older.withBytes { olderPtr, olderLen in
            try newer.withBytes { newerPtr, newerLen in
                try check(bt_prekey_upload_merge(olderPtr, olderLen, newerPtr, newerLen, &merged))
            }
        }
        return merged.bytes
    }
}
