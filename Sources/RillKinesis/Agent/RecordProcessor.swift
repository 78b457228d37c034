/// Applies a flow's processing options to each record read from a file. A record is one line with its
/// newline, as the Kinesis Agent sends it; CSVTOJSON and LOGTOJSON write one JSON object and a newline,
/// SINGLELINE leaves no newline at all. A record a converter cannot parse goes out unchanged (and is counted),
/// so nothing in the file is lost to a pattern that did not fit.
public struct RecordProcessor {
    private let steps: [Step]

    private enum Step {
        case singleLine
        case csv(fieldNames: [String], delimiter: String)
        case log(Regex<AnyRegexOutput>, fieldNames: [String], dashIsNull: Bool)
    }

    /// What one record came to.
    public struct Output: Sendable, Equatable {
        public var data: [UInt8]
        /// A converter did not match and left the record as it was.
        public var unconverted: Bool
    }

    public init(_ options: [ProcessingOption]) throws(AgentConfiguration.Invalid) {
        var steps: [Step] = []
        for option in options {
            switch option {
            case .singleLine: steps.append(.singleLine)
            case .csvToJSON(let names, let delimiter): steps.append(.csv(fieldNames: names, delimiter: delimiter))
            case .logToJSON(let format, let pattern, let names):
                let regex: Regex<AnyRegexOutput>
                do {
                    regex = try Regex(pattern ?? format.pattern)
                } catch {
                    throw .init("LOGTOJSON pattern for \(format.rawValue) does not compile: \(error)")
                }
                // Apache writes "-" for a field it has no value for; the agent writes null there.
                let apache = format == .commonApacheLog || format == .combinedApacheLog
                steps.append(.log(regex, fieldNames: names ?? format.fieldNames, dashIsNull: apache))
            }
        }
        self.steps = steps
    }

    public func process(_ record: [UInt8]) -> Output {
        var data = record
        var unconverted = false
        for step in steps {
            switch step {
            case .singleLine:
                data = Self.singleLine(data)
            case .csv(let names, let delimiter):
                data = Self.csv(data, fieldNames: names, delimiter: delimiter)
            case .log(let regex, let names, let dashIsNull):
                if let json = Self.log(data, regex: regex, fieldNames: names, dashIsNull: dashIsNull) {
                    data = json
                } else {
                    unconverted = true
                }
            }
        }
        return Output(data: data, unconverted: unconverted)
    }

    // MARK: - Options

    static func singleLine(_ data: [UInt8]) -> [UInt8] {
        let text = String(decoding: data, as: UTF8.self)
        var output = ""
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            output += line.trimmedOfSpaces()
        }
        return Array(output.utf8)
    }

    static func csv(_ data: [UInt8], fieldNames: [String], delimiter: String) -> [UInt8] {
        let line = String(decoding: data, as: UTF8.self).withoutLineEnd()
        let values = line.split(separator: delimiter, omittingEmptySubsequences: false).map { $0.trimmedOfSpaces() }
        var members: [(String, String?)] = []
        for (index, name) in fieldNames.enumerated() {
            members.append((name, index < values.count ? values[index] : nil))
        }
        return FlatJSON.object(members) + [UInt8(ascii: "\n")]
    }

    static func log(
        _ data: [UInt8],
        regex: Regex<AnyRegexOutput>,
        fieldNames: [String],
        dashIsNull: Bool
    ) -> [UInt8]? {
        let line = String(decoding: data, as: UTF8.self).withoutLineEnd()
        let found: Regex<AnyRegexOutput>.Match?
        do {
            found = try regex.wholeMatch(in: line)
        } catch {
            // Only custom regex components throw; a pattern from text has none. Treat it as no match.
            return nil
        }
        guard let match = found else { return nil }
        var members: [(String, String?)] = []
        for (index, name) in fieldNames.enumerated() {
            let group = index + 1
            var value: String?
            if group < match.output.count, let substring = match.output[group].substring {
                value = String(substring)
            }
            if dashIsNull && value == "-" { value = nil }
            members.append((name, value))
        }
        return FlatJSON.object(members) + [UInt8(ascii: "\n")]
    }
}

/// One flat JSON object of string (or null) values, keys in the order given.
enum FlatJSON {
    static func object(_ members: [(String, String?)]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, (key, value)) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(key, into: &out)
            out.append(UInt8(ascii: ":"))
            if let value { string(value, into: &out) } else { out += Array("null".utf8) }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension StringProtocol {
    fileprivate func trimmedOfSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? first
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    fileprivate func withoutLineEnd() -> String {
        var text = String(self)
        if text.hasSuffix("\r\n") {
            text.removeLast()
        } else if text.hasSuffix("\n") {
            text.removeLast()
        }
        return text
    }
}
