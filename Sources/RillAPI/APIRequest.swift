import RillKinesis

/// One decoded client call as the node sees it, whichever front end it came through.
public struct APIRequest: Sendable {
    public var operation: KinesisOperation
    public var body: [UInt8]
    /// The region the request was signed for, when it carried a SigV4 scope.
    public var signedRegion: String?
    public var requestID: String
    /// Who makes the call, as far as the front end could tell (`Authorizer`).
    public var principal: Principal = .anonymous
    /// Whether another node or a router sent the call here (`PeerCall.forward`): it is then served here or
    /// refused with NotLeader, never sent on, so a client call makes at most one hop.
    public var forwarded: Bool
    /// The encoding the client reads (the body is always JSON). A node may answer a hot call (GetRecords)
    /// straight in it; a forwarded call does not carry it, so its reply is JSON and the edge transcodes.
    public var replyProtocol: WireProtocol
    /// The encoding of `body`. A node serving a CBOR call itself reads the CBOR straight into its request
    /// tree; whatever forwards or routes a call (`inJSON()`) turns it into JSON first, because peers, the
    /// router's PutRecords split and `PeerCall.forward` speak only JSON.
    public var bodyEncoding: WireProtocol
    /// An idempotent producer's id and record sequences (`x-rill-producer-*` headers); nil for plain clients.
    public var producer: ProducerStamp?

    public init(
        operation: KinesisOperation,
        body: [UInt8],
        signedRegion: String?,
        requestID: String,
        forwarded: Bool = false,
        replyProtocol: WireProtocol = .json,
        bodyEncoding: WireProtocol = .json,
        principal: Principal = .anonymous
    ) {
        self.principal = principal
        self.operation = operation
        self.body = body
        self.signedRegion = signedRegion
        self.requestID = requestID
        self.forwarded = forwarded
        self.replyProtocol = replyProtocol
        self.bodyEncoding = bodyEncoding
    }

    /// This call with a JSON body (itself when it has one); malformed CBOR is a SerializationException.
    public func inJSON() throws(KinesisError) -> APIRequest {
        guard bodyEncoding == .cbor else { return self }
        var request = self
        request.body = try WireProtocol.cbor.requestJSON(body)
        request.bodyEncoding = .json
        return request
    }

    /// The request tree of the body, whichever its encoding.
    public func reader() throws(KinesisError) -> RequestReader {
        bodyEncoding == .cbor ? try RequestReader(cbor: body) : try RequestReader(bytes: body)
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
