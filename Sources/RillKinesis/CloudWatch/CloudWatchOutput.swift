/// A CloudWatch answer before encoding, so one builder serves CBOR, JSON 1.0 and the query protocol's XML.
indirect enum CloudWatchOutput: Sendable {
    case string(String)
    case double(Double)
    case timestamp(millis: Int64)
    case list([CloudWatchOutput])
    case structure([(String, CloudWatchOutput)])
    /// A map member (`ExtendedStatistics`): an object in JSON and CBOR like a structure, but `entry`/`key`/`value`
    /// elements in the query protocol's XML.
    case map([(String, CloudWatchOutput)])

    func cbor() -> [UInt8] {
        var writer = CBORWriter()
        write(&writer)
        return writer.bytes
    }

    private func write(_ writer: inout CBORWriter) {
        switch self {
        case .string(let text): writer.text(text)
        case .double(let value): writer.double(value)
        case .timestamp(let millis):
            // Smithy RPC v2 CBOR: tag 1 over epoch seconds (fractions allowed), unlike Kinesis's CBOR 1.1 milliseconds.
            writer.tag(1)
            if millis % 1000 == 0 { writer.int(millis / 1000) } else { writer.double(Double(millis) / 1000) }
        case .list(let items):
            writer.beginArray()
            for item in items { item.write(&writer) }
            writer.endArray()
        case .structure(let members), .map(let members):
            writer.beginMap()
            for (key, value) in members {
                writer.text(key)
                value.write(&writer)
            }
            writer.endMap()
        }
    }

    func json() -> [UInt8] {
        var out: [UInt8] = []
        writeJSON(&out)
        return out
    }

    private func writeJSON(_ out: inout [UInt8]) {
        switch self {
        case .string(let text):
            var writer = JSONWriter()
            writer.string(text)
            out += writer.bytes
        case .double(let value): out += Array(Self.number(value).utf8)
        case .timestamp(let millis): out += Array(Self.number(Double(millis) / 1000).utf8)
        case .list(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.writeJSON(&out)
            }
            out.append(UInt8(ascii: "]"))
        case .structure(let members), .map(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                CloudWatchOutput.string(key).writeJSON(&out)
                out.append(UInt8(ascii: ":"))
                value.writeJSON(&out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The query protocol's XML body: `<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`.
    func xml(operation: String, requestID: String) -> [UInt8] {
        var out = "<\(operation)Response xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><\(operation)Result>"
        if case .structure(let members) = self {
            for (key, value) in members { value.writeXML(key, &out) }
        }
        out +=
            "</\(operation)Result><ResponseMetadata><RequestId>\(Self.escaped(requestID))</RequestId></ResponseMetadata></\(operation)Response>"
        return Array(out.utf8)
    }

    private func writeXML(_ name: String, _ out: inout String) {
        out += "<\(name)>"
        switch self {
        case .string(let text): out += Self.escaped(text)
        case .double(let value): out += Self.number(value)
        case .timestamp(let millis): out += CivilTime.iso8601(millis)
        case .list(let items): for item in items { item.writeXML("member", &out) }
        case .structure(let members): for (key, value) in members { value.writeXML(key, &out) }
        case .map(let entries):
            for (key, value) in entries {
                out += "<entry><key>\(Self.escaped(key))</key>"
                value.writeXML("value", &out)
                out += "</entry>"
            }
        }
        out += "</\(name)>"
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) + ".0" : "\(value)"
    }
}
