/// Why a history could not be read; names the line so the file can be fixed or the writer's bug found.
public struct HistoryReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The file could not be opened or read.
        case unreadableFile
        /// A line is not JSON, or not an event the format knows.
        case malformedLine
    }

    public var code: Code
    /// The 1-based line number of a malformed line.
    public var line: Int?
    /// What is wrong, for a person.
    public var reason: String

    public init(code: Code, line: Int? = nil, reason: String) {
        self.code = code
        self.line = line
        self.reason = reason
    }

    public var description: String {
        switch code {
        case .unreadableFile: "history unreadable: \(reason)"
        case .malformedLine: "history line \(line ?? 0) is malformed: \(reason)"
        }
    }
}
