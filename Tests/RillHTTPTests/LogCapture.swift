import InMemoryLogging
import Logging
import RillNode

/// A logger whose lines a test reads back, with the `request.id` provider `rill` installs at bootstrap.
struct LogCapture {
    let logger: Logger
    private let handler: InMemoryLogHandler

    init(level: Logger.Level = .trace, metadata: Logger.Metadata = [:]) {
        var handler = InMemoryLogHandler()
        handler.logLevel = level
        handler.metadataProvider = RequestLogContext.metadataProvider
        self.handler = handler
        var logger = Logger(label: "test", factory: { _ in handler })
        for (key, value) in metadata { logger[metadataKey: key] = value }
        self.logger = logger
    }

    var entries: [InMemoryLogHandler.Entry] { handler.entries }

    /// The lines with this message.
    func lines(_ message: String) -> [InMemoryLogHandler.Entry] {
        entries.filter { $0.message.description == message }
    }
}
