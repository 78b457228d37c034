/// Cuts bytes read from a log file into records: one per line, the newline included (the Kinesis Agent sends
/// lines whole). A line still being written (no newline yet) is left for the next read, unless the file is
/// finished (rotated away); a line longer than `maxLineBytes` is cut into records of that size so one runaway
/// line cannot stall the file.
public enum LineSplitter {
    /// The records in `bytes` as ranges, and how many bytes they cover (the rest is an unfinished line).
    public static func split(
        _ bytes: [UInt8],
        maxLineBytes: Int,
        finished: Bool
    ) -> (lines: [Range<Int>], consumed: Int) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        var lines: [Range<Int>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                lines.append(start..<(index + 1))
                start = index + 1
            } else if index + 1 - start == maxLineBytes {
                lines.append(start..<(index + 1))
                start = index + 1
            }
            index += 1
        }
        if finished && start < bytes.count {
            lines.append(start..<bytes.count)
            start = bytes.count
        }
        return (lines, start)
    }
}
