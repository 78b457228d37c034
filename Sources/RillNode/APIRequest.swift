import RillKinesis

/// One decoded client call as the node sees it, whichever front end it came through.
public struct APIRequest: Sendable {
    public var operation: KinesisOperation
    public var body: [UInt8]
    /// The region the request was signed for, when it carried a SigV4 scope.
    public var signedRegion: String?
    public var requestID: String
    /// The encoding the client reads (the body is always JSON). A node may answer a hot call (GetRecords)
    /// straight in it; a forwarded call does not carry it, so its reply is JSON and the edge transcodes.
    public var replyProtocol: WireProtocol

    public init(
        operation: KinesisOperation, body: [UInt8], signedRegion: String?, requestID: String, replyProtocol: WireProtocol = .json
    ) {
        self.operation = operation
        self.body = body
        self.signedRegion = signedRegion
        self.requestID = requestID
        self.replyProtocol = replyProtocol
    }
}

/// A successful reply: a body in `encoding` (JSON unless the node wrote the client's CBOR itself), or an
/// empty one for operations without output.
public struct APIResponse: Sendable {
    public var body: [UInt8]
    public var encoding: WireProtocol
    public init(body: [UInt8], encoding: WireProtocol = .json) {
        self.body = body
        self.encoding = encoding
    }
    public static let empty = APIResponse(body: [])
    public init(_ writer: JSONWriter) { self.init(body: writer.bytes) }
    public init(_ writer: CBORWriter) { self.init(body: writer.bytes, encoding: .cbor) }
}
