import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The once-a-second progress line on stderr, so a long phase shows it is alive and how fast it goes.
///
/// On a terminal the line is rewritten in place with `\r`; into a file or pipe it prints plain lines.
enum Progress {
    static let isTerminal = isatty(STDERR_FILENO) != 0

    /// Prints until the task is cancelled, then ends the line so the report starts on a fresh one.
    static func run(phase: String, counters: LiveCounters, start: NIODeadline) async {
        var lastRecords = 0
        var lastTime = start
        var tick = 1
        while true {
            do {
                try await Task.sleep(until: ContinuousClock.now + .seconds(1))
            } catch {
                break  // cancelled: the phase is over
            }
            let now = NIODeadline.now()
            let records = counters.records.load(ordering: .relaxed)
            let seconds = Double(nanoseconds(from: lastTime.uptimeNanoseconds, to: now.uptimeNanoseconds)) / 1e9
            let rate = seconds > 0 ? Double(records - lastRecords) / seconds : 0
            let elapsed = Double(nanoseconds(from: start.uptimeNanoseconds, to: now.uptimeNanoseconds)) / 1e9
            let line =
                "[\(phase)] \(Format.fixed(elapsed, 1)) s  \(Format.grouped(records)) records  "
                + "\(Format.grouped(Int(rate))) records/s  "
                + "\(Format.grouped(counters.requests.load(ordering: .relaxed))) requests  "
                + "\(Format.grouped(counters.errors.load(ordering: .relaxed))) errors"
            writeStandardError(isTerminal ? "\r\u{1B}[2K" + line : line + "\n")
            lastRecords = records
            lastTime = now
            tick += 1
        }
        if isTerminal && tick > 1 { writeStandardError("\n") }
    }

    /// Writes straight to fd 2: C's `stderr` global is not concurrency-safe to touch in Swift 6.
    static func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written <= 0 { return }  // stderr gone: progress is optional, the report still goes to stdout
                offset += written
            }
        }
    }
}
