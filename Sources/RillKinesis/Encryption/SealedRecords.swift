import Crypto
import Foundation

/// Records encrypted at rest (docs/security.md). The shard's leader seals a `records` entry before it proposes
/// it, so followers, segment files, snapshots and backups only ever hold the ciphertext.
///
/// A sealed batch sets bit 0x4000 of the `count` word; partition keys and data (the whole records section of
/// `RecordBatch`) are one AES-256-GCM message:
///
///     count u16 (| 0x4000, | 0x8000 for a producer), dataKeyVersion u32, sealedLength u32,
///     nonce (12) + ciphertext + tag (16), then the producer section as in a plain batch
///
/// The producer section stays in the clear: replicas rebuild the producer window from it as entries apply,
/// whether or not they hold the master key, and it holds no record content. The authenticated data is the
/// stream's id and the first six bytes, so a sealed section cannot be replayed into another stream or under
/// another version. `dataKeyVersion` is the 1-based position of the data key in the stream's catalog entry:
/// stopping encryption or adding a data key never makes an older entry unreadable.
extension RecordBatch {
    static let sealedFlag = 0x4000
    static let sealedHeader = 10

    /// Whether an encoded batch is sealed (one byte looked at).
    public static func isSealed(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return false }
        return Int(first) << 8 & sealedFlag != 0
    }

    /// How many records a well-formed batch, plain or sealed, holds (without opening it).
    public static func recordCount(of bytes: [UInt8]) -> Int? {
        guard isWellFormed(bytes) else { return nil }
        return (Int(bytes[0]) << 8 | Int(bytes[1])) & 0x3FFF
    }

    /// The data key version of a sealed batch.
    public static func dataKeyVersion(of bytes: [UInt8]) -> UInt32? {
        guard isSealed(bytes), bytes.count >= sealedHeader else { return nil }
        return bytes[2..<6].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// `plain` (an encoded plain batch) sealed under `key`, data key version `version` of stream `streamID`.
    public static func seal(
        _ plain: [UInt8],
        key: SymmetricKey,
        version: UInt32,
        streamID: String
    ) throws(DecodeError) -> [UInt8] {
        guard plain.count >= 2, !isSealed(plain) else { throw DecodeError() }
        let word = Int(plain[0]) << 8 | Int(plain[1])
        let end = try recordsEnd(plain, count: word & 0x3FFF, from: 2)
        var sealed: [UInt8] = []
        sealed.reserveCapacity(plain.count + sealedHeader + 28)
        sealed.append(UInt8(truncatingIfNeeded: (word | sealedFlag) >> 8))
        sealed.append(UInt8(truncatingIfNeeded: word))
        for shift in stride(from: 24, through: 0, by: -8) { sealed.append(UInt8(truncatingIfNeeded: version >> shift)) }
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(
                plain[2..<end],
                using: key,
                authenticating: authenticated(streamID, header: sealed)
            )
        } catch {
            throw DecodeError()
        }
        let length = UInt32(12 + (end - 2) + 16)
        for shift in stride(from: 24, through: 0, by: -8) { sealed.append(UInt8(truncatingIfNeeded: length >> shift)) }
        box.nonce.withUnsafeBytes { sealed.append(contentsOf: $0) }
        sealed.append(contentsOf: box.ciphertext)
        sealed.append(contentsOf: box.tag)
        sealed.append(contentsOf: plain[end...])
        return sealed
    }

    /// The plain encoding of a sealed batch, opened with `key` (the data key of its version). A tag that does
    /// not verify (damage, or the wrong key) is an error: nothing of the entry is served.
    public static func open(_ sealed: [UInt8], key: SymmetricKey, streamID: String) throws(DecodeError) -> [UInt8] {
        guard isSealed(sealed), sealed.count >= sealedHeader else { throw DecodeError() }
        let length = sealed[6..<10].reduce(0) { $0 << 8 | Int($1) }
        guard length >= 28, sealedHeader + length <= sealed.count else { throw DecodeError() }
        let body = sealed[sealedHeader..<sealedHeader + length]
        let records: [UInt8]
        do {
            let box = try AES.GCM.SealedBox(
                nonce: try AES.GCM.Nonce(data: body.prefix(12)),
                ciphertext: body.dropFirst(12).dropLast(16),
                tag: body.suffix(16)
            )
            records = Array(
                try AES.GCM.open(box, using: key, authenticating: authenticated(streamID, header: sealed[0..<6]))
            )
        } catch {
            throw DecodeError()
        }
        var plain: [UInt8] = []
        plain.reserveCapacity(2 + records.count + sealed.count - sealedHeader - length)
        plain.append(sealed[0] & 0xBF)
        plain.append(sealed[1])
        plain.append(contentsOf: records)
        plain.append(contentsOf: sealed[(sealedHeader + length)...])
        return plain
    }

    /// Where the records of a batch end (the producer section, if any, starts there).
    static func recordsEnd(_ bytes: [UInt8], count: Int, from start: Int) throws(DecodeError) -> Int {
        var offset = start
        for _ in 0..<count {
            guard offset + 2 <= bytes.count else { throw DecodeError() }
            offset += 2 + (Int(bytes[offset]) << 8 | Int(bytes[offset + 1]))
            guard offset + 4 <= bytes.count else { throw DecodeError() }
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4 + length
        }
        guard offset <= bytes.count else { throw DecodeError() }
        return offset
    }

    /// Where the producer section of a sealed batch starts.
    static func sealedEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= sealedHeader else { return nil }
        let length = bytes[6..<10].reduce(0) { $0 << 8 | Int($1) }
        guard length >= 28, sealedHeader + length <= bytes.count else { return nil }
        return sealedHeader + length
    }

    private static func authenticated(_ streamID: String, header: some Collection<UInt8>) -> [UInt8] {
        Array(streamID.utf8) + header
    }
}
