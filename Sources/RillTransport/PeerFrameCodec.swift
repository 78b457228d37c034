import NIOCore

/// Splits the inbound byte stream into `PeerFrame`s. A malformed frame throws `PeerFrameError`, which
/// `ByteToMessageHandler` fires as `errorCaught`; the connection handler logs it and closes the connection.
public struct PeerFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = PeerFrame

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try PeerFrame.read(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // A partial frame at EOF is dropped: the peer died mid-frame and Raft tolerates the loss.
        try decode(context: context, buffer: &buffer)
    }
}

/// Writes `PeerFrame`s straight into the outbound buffer (payloads are copied with `writeBytes`, not per byte).
public struct PeerFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = PeerFrame

    public init() {}

    public func encode(data: PeerFrame, out: inout ByteBuffer) throws {
        let start = out.writerIndex
        data.write(to: &out)
        let length = out.writerIndex - start - 4
        // Never send what the peer must refuse; the caller's write fails instead of the whole connection.
        if length > PeerFrame.maximumLength {
            out.moveWriterIndex(to: start)
            throw PeerFrameError.frameTooLarge(length: length)
        }
    }
}
