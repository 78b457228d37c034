import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns process signals into an awaitable event, so shutdown runs as ordinary structured code.
final class SignalWatcher: Sendable {
    private let stream: AsyncStream<Int32>
    // Dispatch sources are the portable way to observe signals without async-signal-safety hazards;
    // they stay alive for the watcher's lifetime and are only touched at init.
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Waits for the next signal; returns 0 if the wait is cancelled.
    func next() async -> Int32 {
        for await number in stream { return number }
        return 0
    }
}
