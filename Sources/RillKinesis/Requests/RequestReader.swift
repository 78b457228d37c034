/// Reads one request body member by member, the way the AWS front end does: a wrong JSON type is a
/// SerializationException at once; constraint violations are collected, in model member order, and
/// reported together as one ValidationException by `finish()`.
public struct RequestReader {
    public let body: JSONObject
    private(set) var violations: [String] = []

    public init(_ body: JSONObject) { self.body = body }

    /// Parses a raw body: empty or non-object bodies get the errors Kinesis gives them.
    public init(bytes: [UInt8]) throws(KinesisError) {
        if bytes.isEmpty || bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw KinesisError(.serialization, "The request body is empty.")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw KinesisError(.serialization, "Malformed JSON at offset \(error.offset): \(error.reason)")
        }
        guard case .object(let object) = value else {
            throw KinesisError(
                .serialization,
                "Start of \(value.tokenName == "START_ARRAY" ? "list" : "value") found where not expected."
            )
        }
        self.init(object)
    }

    /// Reads a CBOR 1.1 body (Java SDK v2, KCL) into the same tree, blobs as bytes; malformed CBOR is a
    /// SerializationException, as malformed JSON is.
    public init(cbor bytes: [UInt8]) throws(KinesisError) {
        if bytes.isEmpty { throw KinesisError(.serialization, "The request body is empty.") }
        let value: JSONValue
        do { value = try CBORToValue.object(bytes) } catch {
            throw KinesisError(.serialization, "Malformed CBOR at offset \(error.offset): \(error.reason)")
        }
        guard case .object(let object) = value else {
            throw KinesisError(
                .serialization,
                "Start of \(value.tokenName == "START_ARRAY" ? "list" : "value") found where not expected."
            )
        }
        self.init(object)
    }

    /// Records a constraint violation in the coral format.
    public mutating func violate(_ value: String, _ path: String, _ rule: String) {
        violations.append("Value \(value) at '\(path)' failed to satisfy constraint: \(rule)")
    }

    /// Throws the collected ValidationException, if any (at most 10 items listed, as AWS does).
    public func finish() throws(KinesisError) {
        guard !violations.isEmpty else { return }
        let count = violations.count
        let prefix = count == 1 ? "1 validation error detected: " : "\(count) validation errors detected: "
        throw KinesisError(.validation, prefix + violations.prefix(10).joined(separator: "; "))
    }

    public static func typeError(_ value: JSONValue, _ target: String) -> KinesisError {
        switch value {
        case .object: KinesisError(.serialization, "Start of structure or map found where not expected.")
        case .array: KinesisError(.serialization, "Start of list found where not expected.")
        default: KinesisError(.serialization, "\(value.tokenName) can not be converted to \(target)")
        }
    }

    static func lowerCamel(_ key: String) -> String {
        guard let first = key.first else { return key }
        return first.lowercased() + key.dropFirst()
    }

    // MARK: - Members

    public mutating func string(
        _ key: String,
        in object: JSONObject? = nil,
        path: String? = nil,
        required: Bool = false,
        min: Int? = nil,
        max: Int? = nil,
        pattern: FieldPattern? = nil
    ) throws(KinesisError) -> String? {
        let path = path ?? Self.lowerCamel(key)
        guard let raw = (object ?? body)[key] else {
            if required { violate("null", path, "Member must not be null") }
            return nil
        }
        guard case .string(let text) = raw else { throw Self.typeError(raw, "a String") }
        checkString(text, path: path, min: min, max: max, pattern: pattern)
        return text
    }

    public mutating func checkString(_ text: String, path: String, min: Int?, max: Int?, pattern: FieldPattern?) {
        // The model counts Java string length: UTF-16 code units.
        let length = text.utf16.count
        if let min, length < min {
            violate("'\(text)'", path, "Member must have length greater than or equal to \(min)")
        } else if let max, length > max {
            violate("'\(text)'", path, "Member must have length less than or equal to \(max)")
        } else if let pattern, !pattern.matches(text) {
            violate("'\(text)'", path, "Member must satisfy regular expression pattern: \(pattern.regex)")
        }
    }

    public mutating func integer(
        _ key: String,
        path: String? = nil,
        required: Bool = false,
        min: Int64? = nil,
        max: Int64? = nil
    ) throws(KinesisError) -> Int64? {
        let path = path ?? Self.lowerCamel(key)
        guard let raw = body[key] else {
            if required { violate("null", path, "Member must not be null") }
            return nil
        }
        guard case .number(let text) = raw else { throw Self.typeError(raw, "an Integer") }
        // Fractions are truncated, as the Java front end does.
        let value: Int64
        if let exact = Int64(text) {
            value = exact
        } else if let double = Double(text), double.isFinite, abs(double) < 9.2e18 {
            value = Int64(double)
        } else {
            throw KinesisError(.serialization, "NUMBER_VALUE can not be converted to an Integer")
        }
        if let min, value < min {
            violate("'\(value)'", path, "Member must have value greater than or equal to \(min)")
        } else if let max, value > max {
            violate("'\(value)'", path, "Member must have value less than or equal to \(max)")
        }
        return value
    }

    public mutating func bool(_ key: String) throws(KinesisError) -> Bool? {
        guard let raw = body[key] else { return nil }
        guard case .bool(let value) = raw else { throw Self.typeError(raw, "a Boolean") }
        return value
    }

    /// A timestamp member: epoch seconds as an integer or decimal, returned in milliseconds.
    public mutating func timestamp(_ key: String, in object: JSONObject? = nil) throws(KinesisError) -> Int64? {
        guard let raw = (object ?? body)[key] else { return nil }
        switch raw {
        case .number(let text):
            guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 9.2e15 else {
                throw KinesisError(.serialization, "NUMBER_VALUE can not be converted to milliseconds since epoch")
            }
            return Int64((seconds * 1000).rounded(.down))
        case .string:
            throw KinesisError(
                .serialization,
                "class java.lang.String can not be converted to milliseconds since epoch"
            )
        default:
            throw Self.typeError(raw, "milliseconds since epoch")
        }
    }

    /// A blob member: padded base64 text, decoded. Size limits apply to the decoded bytes.
    public mutating func blob(
        _ key: String,
        in object: JSONObject? = nil,
        path: String? = nil,
        required: Bool = false,
        max: Int? = nil
    ) throws(KinesisError) -> [UInt8]? {
        let path = path ?? Self.lowerCamel(key)
        guard let raw = (object ?? body)[key] else {
            if required { violate("null", path, "Member must not be null") }
            return nil
        }
        let text: String
        switch raw {
        case .string(let base64): text = base64
        case .blob(let bytes):
            checkBlob(bytes, path: path, max: max)
            return bytes
        default: throw Self.typeError(raw, "a Blob")
        }
        let bytes: [UInt8]
        do { bytes = try Base64.decode(text) } catch {
            switch error {
            case .badLength(let length):
                throw KinesisError(
                    .serialization,
                    "Base64 encoded length is expected a multiple of 4 bytes but found: \(length)"
                )
            case .badCharacter:
                throw KinesisError(.serialization, "Illegal base64 character found in Blob value")
            }
        }
        checkBlob(bytes, path: path, max: max)
        return bytes
    }

    private mutating func checkBlob(_ bytes: [UInt8], path: String, max: Int?) {
        if let max, bytes.count > max {
            violate(
                "'java.nio.HeapByteBuffer[pos=0 lim=\(bytes.count) cap=\(bytes.count)]'",
                path,
                "Member must have length less than or equal to \(max)"
            )
        }
    }

    public mutating func enumeration<E: RawRepresentable & CaseIterable>(
        _ key: String,
        in object: JSONObject? = nil,
        path: String? = nil,
        required: Bool = false,
        as type: E.Type
    ) throws(KinesisError) -> E? where E.RawValue == String {
        let path = path ?? Self.lowerCamel(key)
        guard let raw = (object ?? body)[key] else {
            if required { violate("null", path, "Member must not be null") }
            return nil
        }
        guard case .string(let text) = raw else { throw Self.typeError(raw, "a String") }
        guard let value = E(rawValue: text) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            violate("'\(text)'", path, "Member must satisfy enum value set: [\(allowed)]")
            return nil
        }
        return value
    }

    public mutating func object(_ key: String, required: Bool = false) throws(KinesisError) -> JSONObject? {
        guard let raw = body[key] else {
            if required { violate("null", Self.lowerCamel(key), "Member must not be null") }
            return nil
        }
        guard case .object(let object) = raw else { throw Self.typeError(raw, "a Structure") }
        return object
    }

    public mutating func array(
        _ key: String,
        required: Bool = false,
        min: Int? = nil,
        max: Int? = nil
    ) throws(KinesisError) -> [JSONValue]? {
        let path = Self.lowerCamel(key)
        guard let raw = body[key] else {
            if required { violate("null", path, "Member must not be null") }
            return nil
        }
        guard case .array(let items) = raw else { throw Self.typeError(raw, "a List") }
        if let min, items.count < min {
            violate("'[...]'", path, "Member must have length greater than or equal to \(min)")
        } else if let max, items.count > max {
            violate("'[...]'", path, "Member must have length less than or equal to \(max)")
        }
        return items
    }

    /// A string-to-string map member such as `Tags`.
    public mutating func stringMap(
        _ key: String,
        required: Bool = false,
        min: Int? = nil,
        max: Int? = nil
    ) throws(KinesisError) -> [(key: String, value: String)]? {
        let path = Self.lowerCamel(key)
        guard let raw = body[key] else {
            if required { violate("null", path, "Member must not be null") }
            return nil
        }
        guard case .object(let object) = raw else { throw Self.typeError(raw, "a Map") }
        var pairs: [(key: String, value: String)] = []
        for member in object.members {
            guard case .string(let text) = member.value else { throw Self.typeError(member.value, "a String") }
            pairs.append((member.key, text))
        }
        if let min, pairs.count < min {
            violate("'{...}'", path, "Member must have length greater than or equal to \(min)")
        } else if let max, pairs.count > max {
            violate("'{...}'", path, "Member must have length less than or equal to \(max)")
        }
        return pairs
    }
}
