/// A parsed JSON document. Numbers keep their text so integers, decimals and exponent forms
/// are interpreted by the member that reads them, the way the Kinesis front end does.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
    /// A blob read from a CBOR byte string: already bytes, never base64 (never produced by the JSON parser).
    case blob([UInt8])

    /// The coral token name used in "X can not be converted to a Y" serialization messages.
    var tokenName: String {
        switch self {
        case .null: "VALUE_NULL"
        case .bool(let value): value ? "TRUE_VALUE" : "FALSE_VALUE"
        case .number: "NUMBER_VALUE"
        case .string: "STRING_VALUE"
        case .array: "START_ARRAY"
        case .object: "START_OBJECT"
        case .blob: "VALUE_EMBEDDED_OBJECT"
        }
    }
}

/// A JSON object as ordered members; request objects are small, so a linear scan beats hashing.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) { self.members = members }

    /// The last value for `key` (JSON permits duplicates; later ones win, as in Jackson). `null` reads as absent.
    public subscript(key: String) -> JSONValue? {
        for member in members.reversed() where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
