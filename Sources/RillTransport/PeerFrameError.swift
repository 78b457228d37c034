/// Why bytes from a peer could not be decoded. The connection that sent them is closed.
public enum PeerFrameError: Error, Sendable, Equatable {
    /// The frame announces a protocol version this node does not speak.
    case unsupportedVersion(UInt8)
    /// The frame kind byte names no frame.
    case unknownFrameKind(UInt8)
    /// The length prefix is above `PeerFrame.maximumLength` (checked before buffering the frame).
    case frameTooLarge(length: Int)
    /// The length prefix is too small to hold the version and kind bytes.
    case frameTooShort(length: Int)
    /// A field runs past the end of the frame.
    case truncated
    /// A tag byte (`what`) has a value no case uses.
    case unknownTag(what: String, tag: UInt8)
    /// The body decoded but bytes remain in the frame.
    case trailingBytes(Int)
    /// A string field is not valid UTF-8.
    case invalidUTF8
    /// A log index above `Int64.max`: `LogIndex` strides in `Int64`, so such a value would trap later.
    case indexOutOfRange(UInt64)
    /// A number (`what`) outside what it may be: a stream reference past the frame's table, a shard index
    /// past 32 bits.
    case valueOutOfRange(what: String, value: UInt64)
    /// A varint runs past 64 bits.
    case malformedVarint
}
