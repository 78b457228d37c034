/// The three ways clients speak CloudWatch, and how a request in each becomes one `JSONValue` tree.
/// Current botocore (boto3, the aws CLI) sends Smithy RPC v2 CBOR; older SDKs JSON 1.0; the Go SDKs and
/// anything older the query protocol (form fields in, XML out).
public enum CloudWatchWire: Sendable, Equatable {
    case rpcV2CBOR
    case json10
    case query

    public static let targetPrefix = "GraniteServiceVersion20100801"
    static let rpcPathPrefix = "/service/GraniteServiceVersion20100801/operation/"

    /// The protocol and operation of a CloudWatch call, or nil when the request is not one (a Kinesis call).
    /// `body` is read only for the query protocol, whose action travels in the form.
    public static func recognize(
        path: String,
        target: String?,
        contentType: String?,
        body: [UInt8]
    ) -> (wire: CloudWatchWire, operation: String)? {
        let pathOnly = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        if pathOnly.hasPrefix(rpcPathPrefix) {
            return (.rpcV2CBOR, String(pathOnly.dropFirst(rpcPathPrefix.count)))
        }
        if let target, target.hasPrefix(targetPrefix + ".") {
            return (.json10, String(target.dropFirst(targetPrefix.count + 1)))
        }
        if let contentType, contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            let form = SigV4.queryParameters(String(decoding: body, as: UTF8.self).replacingPlus())
            if form["Version"] == "2010-08-01", let action = form["Action"] { return (.query, action) }
        }
        return nil
    }

    /// The request's members as one tree; timestamps become numbers of epoch seconds or ISO 8601 strings, both of
    /// which `CloudWatchRequests` reads.
    func decode(_ body: [UInt8]) throws(CloudWatchError) -> JSONObject {
        switch self {
        case .rpcV2CBOR:
            if body.isEmpty { return JSONObject() }
            let value: CBORValue
            do { value = try CBORDecoder.decode(body) } catch {
                throw .serialization("The request body is not valid CBOR: \(error.reason)")
            }
            guard case .object(let object) = try Self.tree(value, depth: 0) else {
                throw .serialization("The request body must be a CBOR map.")
            }
            return object
        case .json10:
            if body.isEmpty { return JSONObject() }
            guard case .object(let object)? = try? JSONParser.parse(body) else {
                throw .serialization("The request body must be a JSON object.")
            }
            return object
        case .query:
            return Self.form(SigV4.queryParameters(String(decoding: body, as: UTF8.self).replacingPlus()))
        }
    }

    private static func tree(_ value: CBORValue, depth: Int) throws(CloudWatchError) -> JSONValue {
        guard depth < 32 else { throw .serialization("The request nests too deep.") }
        switch value {
        case .unsigned, .negative: return .number(String(value.int64 ?? 0))
        case .float(let number): return .number("\(number)")
        case .text(let text): return .string(text)
        case .bool(let flag): return .bool(flag)
        case .null, .undefined: return .null
        case .tagged(_, let inner): return try tree(inner, depth: depth + 1)
        case .bytes: throw .serialization("A byte string is not a CloudWatch request member.")
        case .simple: throw .serialization("A CBOR simple value is not a CloudWatch request member.")
        case .array(let items):
            var out: [JSONValue] = []
            for item in items { out.append(try tree(item, depth: depth + 1)) }
            return .array(out)
        case .map(let pairs):
            var members: [(key: String, value: JSONValue)] = []
            for pair in pairs {
                guard case .text(let key) = pair.key else { throw .serialization("A map key is not a text string.") }
                members.append((key, try tree(pair.value, depth: depth + 1)))
            }
            return .object(JSONObject(members))
        }
    }

    /// `Dimensions.member.1.Name=StreamName` and friends to nested objects and lists.
    static func form(_ fields: [String: String]) -> JSONObject {
        final class Node {
            var value: String?
            var children: [(String, Node)] = []
            func child(_ name: String) -> Node {
                if let found = children.first(where: { $0.0 == name }) { return found.1 }
                let node = Node()
                children.append((name, node))
                return node
            }
            func json() -> JSONValue {
                if let value, children.isEmpty { return .string(value) }
                // A node whose children are all `member` holds a list, indexed from 1.
                if children.count == 1, children[0].0 == "member" {
                    let items = children[0].1.children.compactMap { key, node in Int(key).map { ($0, node) } }.sorted {
                        $0.0 < $1.0
                    }
                    return .array(items.map { $0.1.json() })
                }
                return .object(JSONObject(children.map { ($0.0, $0.1.json()) }))
            }
        }
        let root = Node()
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where key != "Action" && key != "Version" {
            var node = root
            for part in key.split(separator: ".") { node = node.child(String(part)) }
            node.value = value
        }
        guard case .object(let object) = root.json() else { return JSONObject() }
        return object
    }
}

extension String {
    /// Form encoding writes a space as `+`.
    fileprivate func replacingPlus() -> String {
        split(separator: "+", omittingEmptySubsequences: false).joined(separator: "%20")
    }
}
