import RillKinesis

/// One decoded client call as the node sees it, whichever front end it came through.
public struct APIRequest: Sendable {
    public var operation: KinesisOperation
    public var body: [UInt8]
    /// The region the request was signed for, when it carried a SigV4 scope.
    public var signedRegion: String?
    public var requestID: String

    public init(operation: KinesisOperation, body: [UInt8], signedRegion: String?, requestID: String) {
        self.operation = operation
        self.body = body
        self.signedRegion = signedRegion
        self.requestID = requestID
    }
}

/// A successful reply: a JSON body, or an empty one for operations without output.
public struct APIResponse: Sendable {
    public var body: [UInt8]
    public init(body: [UInt8]) { self.body = body }
    public static let empty = APIResponse(body: [])
    public init(_ writer: JSONWriter) { self.body = writer.bytes }
}
