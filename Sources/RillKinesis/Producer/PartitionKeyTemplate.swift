import RillModel

/// A partition key (or explicit hash key) pattern of `rill put`: literal text with placeholders.
///
/// | placeholder | becomes |
/// | --- | --- |
/// | `{n}` | the record's number in the run, from 0 |
/// | `{lineno}` | its line number in its file, from 1 (1 with `--whole-file`) |
/// | `{file}` | the file it came from as given, `-` for stdin |
/// | `{md5}` | hex MD5 of its data: equal data, equal key |
/// | `{random}` | 32 random hex digits |
/// | `{json:PATH}` | a field of a JSON line, PATH dotted (`user.id`); strings as they are, numbers and booleans as written |
///
/// `{{` and `}}` stand for literal braces. Parsed once; `render` runs per record.
public struct PartitionKeyTemplate: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case literal(String)
        case number, lineNumber, file, md5, random
        case jsonField([String])
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Why one record has no key.
    public struct RenderError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// What a record offers the placeholders.
    public struct Context {
        public var number: Int
        public var lineNumber: Int
        public var file: String
        public var data: [UInt8]

        public init(number: Int, lineNumber: Int, file: String, data: [UInt8]) {
            self.number = number
            self.lineNumber = lineNumber
            self.file = file
            self.data = data
        }
    }

    public let parts: [Part]

    /// The default key: random, so records spread over every shard.
    public static let random = PartitionKeyTemplate(parts: [.random])

    public init(parts: [Part]) { self.parts = parts }

    public init(_ text: String) throws(ParseError) {
        var parts: [Part] = []
        var literal = ""
        var index = text.startIndex
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
        }
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "}" {
                guard next < text.endIndex, text[next] == "}" else {
                    throw ParseError(description: "unmatched } in \"\(text)\" (write }} for a brace)")
                }
                literal.append("}")
                index = text.index(after: next)
                continue
            }
            guard character == "{" else {
                literal.append(character)
                index = next
                continue
            }
            if next < text.endIndex, text[next] == "{" {
                literal.append("{")
                index = text.index(after: next)
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                throw ParseError(description: "unclosed { in \"\(text)\"")
            }
            let name = String(text[next..<close])
            flush()
            parts.append(try Self.placeholder(name))
            index = text.index(after: close)
        }
        flush()
        guard !parts.isEmpty else { throw ParseError(description: "the key template is empty") }
        self.parts = parts
    }

    /// `--partition-key-field PATH`: the template `{json:PATH}`.
    public static func jsonField(_ path: String) throws(ParseError) -> PartitionKeyTemplate {
        PartitionKeyTemplate(parts: [try placeholder("json:" + path)])
    }

    private static func placeholder(_ name: String) throws(ParseError) -> Part {
        switch name {
        case "n": return .number
        case "lineno": return .lineNumber
        case "file": return .file
        case "md5": return .md5
        case "random": return .random
        default:
            guard name.hasPrefix("json:") else {
                throw ParseError(
                    description:
                        "unknown placeholder {\(name)}: use {n}, {lineno}, {file}, {md5}, {random} or {json:PATH}"
                )
            }
            let path = name.dropFirst("json:".count).split(separator: ".", omittingEmptySubsequences: false).map(
                String.init
            )
            guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty }) else {
                throw ParseError(description: "bad JSON path in {\(name)}")
            }
            return .jsonField(path)
        }
    }

    /// Whether rendering parses the record as JSON.
    public var readsJSON: Bool { parts.contains { if case .jsonField = $0 { true } else { false } } }

    /// The key for one record: 1 to 256 characters, as Kinesis requires.
    public func render(_ context: Context, random: inout some RandomNumberGenerator) throws(RenderError) -> String {
        var key = ""
        var json: JSONValue?
        for part in parts {
            switch part {
            case .literal(let text): key += text
            case .number: key += String(context.number)
            case .lineNumber: key += String(context.lineNumber)
            case .file: key += context.file
            case .md5: key += Self.hex(MD5.hash(context.data))
            case .random:
                var bytes: [UInt8] = []
                for _ in 0..<2 { withUnsafeBytes(of: random.next()) { bytes += $0 } }
                key += Self.hex(bytes)
            case .jsonField(let path):
                if json == nil {
                    do {
                        json = try JSONParser.parse(context.data)
                    } catch {
                        throw RenderError(
                            description:
                                "record \(context.number) is not JSON (\(error.reason) at byte \(error.offset))"
                        )
                    }
                }
                key += try Self.field(path, in: json ?? .null, record: context.number)
            }
        }
        let length = key.utf16.count
        guard (1...256).contains(length) else {
            throw RenderError(
                description: "record \(context.number): partition key of \(length) characters (Kinesis takes 1 to 256)"
            )
        }
        return key
    }

    private static func field(_ path: [String], in root: JSONValue, record: Int) throws(RenderError) -> String {
        var value = root
        for name in path {
            guard case .object(let object) = value, let member = object[name] else {
                throw RenderError(description: "record \(record) has no field \(path.joined(separator: "."))")
            }
            value = member
        }
        switch value {
        case .string(let text): return text
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        default:
            throw RenderError(
                description: "record \(record): field \(path.joined(separator: ".")) is not a string, number or boolean"
            )
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
