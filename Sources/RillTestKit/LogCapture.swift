import InMemoryLogging
import Logging

/// A logger whose lines a test can read back: what an operator would see, metadata included.
public struct LogCapture: Sendable {
    public let logger: Logger
    private let handler: InMemoryLogHandler

    /// - Parameter metadataProvider: adds task-local metadata to every line, as the process's handler does
    ///   (for example a request's id).
    public init(
        level: Logger.Level = .trace,
        metadata: Logger.Metadata = [:],
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        var handler = InMemoryLogHandler()
        handler.logLevel = level
        handler.metadataProvider = metadataProvider
        self.handler = handler
        var logger = Logger(label: "test", factory: { _ in handler })
        for (key, value) in metadata { logger[metadataKey: key] = value }
        self.logger = logger
    }

    public var entries: [InMemoryLogHandler.Entry] { handler.entries }

    /// The lines with this message.
    public func lines(_ message: String) -> [InMemoryLogHandler.Entry] {
        entries.filter { $0.message.description == message }
    }
}
