import Foundation

/// Parses history files (format: `History`) without trapping on anything in them.
public enum HistoryReader {
    /// Reads and parses the history at `url`.
    public static func read(contentsOf url: URL) throws(HistoryReadError) -> History {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw HistoryReadError(code: .unreadableFile, reason: "\(url.path): \(error.localizedDescription)")
        }
        return History(events: try decode(data))
    }

    /// Parses JSON lines; blank lines are skipped, and a final line may lack its newline.
    public static func decode(_ data: Data) throws(HistoryReadError) -> [HistoryEvent] {
        let decoder = JSONDecoder()
        var events: [HistoryEvent] = []
        for (number, range) in lineRanges(data).enumerated() {
            let line = data[range]
            guard line.contains(where: { !isWhitespace($0) }) else { continue }
            events.append(try decodeLine(line, number: number + 1, decoder: decoder))
        }
        return events
    }

    /// Parses one line, given its 1-based number for the error.
    public static func decodeLine(_ line: Data, number: Int) throws(HistoryReadError) -> HistoryEvent {
        try decodeLine(line, number: number, decoder: JSONDecoder())
    }

    private static func decodeLine(
        _ line: Data,
        number: Int,
        decoder: JSONDecoder
    ) throws(HistoryReadError)
        -> HistoryEvent
    {
        do {
            return try decoder.decode(HistoryEvent.self, from: line)
        } catch let error as DecodingError {
            throw HistoryReadError(code: .malformedLine, line: number, reason: explain(error) + excerpt(line))
        } catch {
            throw HistoryReadError(code: .malformedLine, line: number, reason: "\(error)" + excerpt(line))
        }
    }

    // MARK: - Messages

    /// A one-line account of a decoding error: Foundation's own descriptions name coding paths, not fields.
    static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \"\(path(context.codingPath + [key]))\""
        case .valueNotFound(_, let context):
            return "\"\(path(context.codingPath))\" is null"
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "not a JSON object"
        case .typeMismatch(let type, let context):
            return "\"\(path(context.codingPath))\" is not \(describe(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "\"\(path(context.codingPath))\": \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: "a number"
        case is Int.Type, is UInt64.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        default: "a valid \(type)"
        }
    }

    private static func excerpt(_ line: Data) -> String {
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        return " in: \(text)\(line.count > 120 ? "…" : "")"
    }

    /// Where each line lies, without its newline; one scan of the bytes, as `Data.split` costs several times more.
    private static func lineRanges(_ data: Data) -> [Range<Data.Index>] {
        data.withUnsafeBytes { bytes in
            var ranges: [Range<Data.Index>] = []
            var start = 0
            while start <= bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                ranges.append((data.startIndex + start)..<(data.startIndex + end))
                start = end + 1
            }
            return ranges
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D
    }
}
