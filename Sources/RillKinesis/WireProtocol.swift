/// The body encoding a client speaks, chosen by its request's `Content-Type`: AWS JSON 1.1 (botocore, the
/// CLI, most SDKs) or CBOR 1.1 (the AWS SDK for Java v2 and the KCL, by default; KINESIS-SEMANTICS §1.3).
///
/// A node serving a CBOR call itself reads the body straight into its request tree (`RequestReader(cbor:)`)
/// and writes the hot replies (PutRecords, GetRecords) straight in CBOR. Everything that forwards or routes
/// a call speaks JSON: the body is transcoded (`requestJSON`) before it leaves, and a JSON reply is
/// transcoded back (`responseBody`) at the HTTP edge, so peers and mixed-version clusters see only JSON.
public enum WireProtocol: Sendable, Equatable {
    case json
    case cbor

    public static let jsonContentType = "application/x-amz-json-1.1"
    public static let cborContentType = "application/x-amz-cbor-1.1"

    /// CBOR for `application/x-amz-cbor-1.1` (parameters and case aside); JSON for anything else, as the
    /// JSON path has always accepted whatever type a client sent.
    public init(contentType: String?) {
        guard let contentType else {
            self = .json
            return
        }
        // What SDKs send, exactly, without splitting and lowercasing (which showed in a small write's profile).
        if contentType == Self.jsonContentType {
            self = .json
            return
        }
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces.lowercased() } ?? ""
        self = media == Self.cborContentType ? .cbor : .json
    }

    /// The `Content-Type` of replies to this client.
    public var contentType: String { self == .cbor ? Self.cborContentType : Self.jsonContentType }

    /// The request body as the JSON the node reads. Malformed CBOR is a SerializationException, like
    /// malformed JSON.
    public func requestJSON(_ body: [UInt8]) throws(KinesisError) -> [UInt8] {
        guard self == .cbor else { return body }
        do {
            return try CBORToJSON.transcode(body)
        } catch {
            throw KinesisError(.serialization, "Malformed CBOR at offset \(error.offset): \(error.reason)")
        }
    }

    /// A successful reply's body in this encoding. The JSON is the node's own, so a failure is a bug.
    public func responseBody(_ json: [UInt8]) throws(KinesisError) -> [UInt8] {
        guard self == .cbor else { return json }
        do {
            return try JSONToCBOR.transcode(json)
        } catch {
            throw KinesisError.internalFailure("The reply could not be encoded as CBOR.")
        }
    }

    /// The body of an error reply: `{"__type", "message"}` in this encoding (KINESIS-SEMANTICS §1.2, §1.3).
    public func errorBody(_ error: KinesisError) -> [UInt8] {
        let messageKey: StaticString = error.usesCapitalMessageKey ? "Message" : "message"
        switch self {
        case .json:
            var w = JSONWriter()
            w.beginObject()
            w.key("__type")
            w.string(error.code.rawValue)
            if let message = error.message {
                w.key(messageKey)
                w.string(message)
            }
            w.endObject()
            return w.bytes
        case .cbor:
            var w = CBORWriter()
            w.beginMap()
            w.text("__type")
            w.text(error.code.rawValue)
            if let message = error.message {
                w.text(utf8: UnsafeBufferPointer(start: messageKey.utf8Start, count: messageKey.utf8CodeUnitCount))
                w.text(message)
            }
            w.endMap()
            return w.bytes
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
