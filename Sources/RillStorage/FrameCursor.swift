import RillModel

/// Walks the frames of a segment file from a position, reading in large chunks so that many small entries
/// cost one pread rather than one each.
struct FrameCursor {
    enum Step {
        case frame(EntryFrame.Header, position: Int64)
        case end
        case invalid(reason: String, position: Int64)
    }

    let file: any StorageFile
    /// Where the next frame starts.
    private(set) var position: Int64
    let end: Int64
    let chunkSize: Int
    private var buffer: [UInt8] = []
    private var bufferStart: Int64 = 0
    private var lastFrameOffset = 0

    init(file: any StorageFile, from position: Int64, to end: Int64, chunkSize: Int = 1 << 20) {
        self.file = file
        self.position = position
        self.end = end
        self.chunkSize = chunkSize
    }

    /// Decodes the frame at `position` and moves past it.
    mutating func next() throws(StorageError) -> Step {
        guard position < end else { return .end }
        var attempt = 0
        while true {
            let offset = Int(position - bufferStart)
            let decoded: EntryFrame.Decoded =
                offset >= 0 && offset < buffer.count
                ? buffer.withUnsafeBytes { EntryFrame.decode($0, at: offset) }
                : .incomplete(needed: EntryFrame.headerSize)
            switch decoded {
            case .frame(let header):
                guard position + Int64(header.size) <= end else {
                    return .invalid(reason: "frame runs past the end of the segment", position: position)
                }
                lastFrameOffset = offset
                let framePosition = position
                position += Int64(header.size)
                return .frame(header, position: framePosition)
            case .invalid(let reason):
                return .invalid(reason: reason, position: position)
            case .incomplete(let needed):
                let remaining = end - position
                guard Int64(needed) <= remaining, attempt < 2 else {
                    return .invalid(reason: "frame cut short by the end of the segment", position: position)
                }
                attempt += 1
                let count = Int(min(Int64(max(chunkSize, needed)), remaining))
                buffer = try file.read(count: count, at: position)
                bufferStart = position
            }
        }
    }

    /// The payload of the frame `next()` returned last.
    func lastPayload(_ header: EntryFrame.Header) -> [UInt8] {
        Array(buffer[(lastFrameOffset + EntryFrame.headerSize)..<(lastFrameOffset + header.size)])
    }
}
