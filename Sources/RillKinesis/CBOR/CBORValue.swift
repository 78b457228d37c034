/// A decoded CBOR data item (RFC 8949 §3). The API never reads requests through this tree (requests are
/// transcoded to JSON bytes by `CBORToJSON`); it exists for tests and tools that want to look at a body.
public enum CBORValue: Sendable, Equatable {
    /// Major type 0.
    case unsigned(UInt64)
    /// Major type 1: the value is `-1 - n`, so the whole range down to -2^64 fits.
    case negative(UInt64)
    /// Major type 2, definite or the concatenated chunks of an indefinite one.
    case bytes([UInt8])
    /// Major type 3, likewise concatenated.
    case text(String)
    /// Major type 4.
    case array([CBORValue])
    /// Major type 5, pairs in the order they were read (CBOR permits any key type).
    case map([CBORPair])
    /// Major type 6: a tag and the item it annotates (tag 1 is an epoch timestamp).
    indirect case tagged(UInt64, CBORValue)
    /// Major type 7 simple values; 20–23 have their own cases.
    case simple(UInt8)
    case bool(Bool)
    case null
    case undefined
    /// Half, single or double precision, widened to Double (every narrower value is exact in a Double).
    case float(Double)

    /// An integer value as `Int64` when it fits.
    public var int64: Int64? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: nil
        }
    }

    /// The value of `key` in a map with text keys.
    public subscript(key: String) -> CBORValue? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.last { $0.key == .text(key) }?.value
    }
}

/// One key/value pair of a CBOR map.
public struct CBORPair: Sendable, Equatable {
    public var key: CBORValue
    public var value: CBORValue
    public init(_ key: CBORValue, _ value: CBORValue) {
        self.key = key
        self.value = value
    }
}

/// Why CBOR input was refused; the API answers every case with SerializationException.
public struct CBORFailure: Error, Sendable, Equatable {
    /// The byte offset where the problem was found.
    public var offset: Int
    public var reason: String
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
}
