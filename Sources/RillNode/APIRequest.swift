import RillKinesis

/// One decoded client call as the node sees it, whichever front end it came through.
public struct APIRequest: Sendable {
    public var operation: KinesisOperation
    public var body: [UInt8]
    /// The region the request was signed for, when it carried a SigV4 scope.
    public var signedRegion: String?
    public var requestID: String
    /// Whether another node or a router sent the call here (`PeerCall.forward`): it is then served here or
    /// refused with NotLeader, never sent on, so a client call makes at most one hop.
    public var forwarded: Bool

    public init(operation: KinesisOperation, body: [UInt8], signedRegion: String?, requestID: String, forwarded: Bool = false) {
        self.operation = operation
        self.body = body
        self.signedRegion = signedRegion
        self.requestID = requestID
        self.forwarded = forwarded
    }
}

/// A successful reply: a JSON body, or an empty one for operations without output.
public struct APIResponse: Sendable {
    public var body: [UInt8]
    public init(body: [UInt8]) { self.body = body }
    public static let empty = APIResponse(body: [])
    public init(_ writer: JSONWriter) { self.body = writer.bytes }
}
