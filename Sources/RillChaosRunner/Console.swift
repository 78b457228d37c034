import Foundation

/// Progress lines for the person watching a run, on stdout, flushed at once so they interleave sensibly
/// with anything else the terminal shows.
struct Console: Sendable {
    func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

/// A duration or run time in seconds with one decimal, for progress lines.
struct Seconds: CustomStringConvertible {
    var value: Double

    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        value = Double(seconds) + Double(attoseconds) / 1e18
    }

    init(milliseconds: Double) {
        value = milliseconds / 1000
    }

    var description: String { String(format: "%.1f s", value) }
}
