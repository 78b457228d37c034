/// NextToken for paginated listings: the fields needed to continue plus the issue time, base64-encoded.
/// Tokens live 300 s, after which Kinesis answers ExpiredNextTokenException.
public enum PageToken {
    public static let lifetimeMillis: Int64 = 300_000

    public enum Decoded: Equatable, Sendable {
        case live([String])
        case expired
    }

    public static func encode(_ fields: [String], now: Int64) -> String {
        var bytes = Array("rill1".utf8)
        bytes.append(contentsOf: Array(String(now).utf8))
        for field in fields {
            bytes.append(0)
            bytes.append(contentsOf: field.utf8)
        }
        return Base64.encode(bytes)
    }

    /// Nil for a token this server never made.
    public static func decode(_ token: String, now: Int64) -> Decoded? {
        guard let bytes = try? Base64.decode(token), bytes.starts(with: Array("rill1".utf8)) else { return nil }
        let parts = bytes.dropFirst(5).split(separator: 0, omittingEmptySubsequences: false)
        guard let first = parts.first, let issued = Int64(String(decoding: first, as: UTF8.self)) else { return nil }
        if now - issued > lifetimeMillis { return .expired }
        return .live(parts.dropFirst().map { String(decoding: $0, as: UTF8.self) })
    }
}

/// Tag keys and values: lengths and the characters Kinesis allows (KINESIS-SEMANTICS §5.6).
public enum TagRules {
    public static let maxTagsPerStream = 50

    static func isAllowed(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character.isWhitespace
            || "_./=+-%@:".contains(character)
    }

    public static func validate(_ keys: [String], values: [String]) throws(KinesisError) {
        for key in keys {
            guard !key.isEmpty, key.utf16.count <= 128 else {
                throw KinesisError(.invalidArgument, "Tag key must be between 1 and 128 characters long.")
            }
            if key.hasPrefix("aws:") {
                throw KinesisError(.invalidArgument, "Tag keys starting with 'aws:' are reserved for system use.")
            }
        }
        for value in values where value.utf16.count > 256 {
            throw KinesisError(.invalidArgument, "Tag value must be at most 256 characters long.")
        }
        guard (keys + values).allSatisfy({ $0.allSatisfy(isAllowed) }) else {
            throw KinesisError(
                .invalidArgument,
                "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
            )
        }
    }
}

extension RequestReader {
    /// The `TagKeys` list of RemoveTagsFromStream and UntagResource: 1–50 keys of 1–128 characters.
    public mutating func tagKeys() throws(KinesisError) -> [String] {
        let items = try array("TagKeys", required: true, min: 1, max: 50) ?? []
        var keys: [String] = []
        for (offset, item) in items.enumerated() {
            guard case .string(let key) = item else { throw Self.typeError(item, "a String") }
            checkString(key, path: "tagKeys.\(offset + 1).member", min: 1, max: 128, pattern: nil)
            keys.append(key)
        }
        return keys
    }
}
