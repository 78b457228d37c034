/// The writes to one file that have not been synced yet, while `StorageFaults.loseUnsyncedWrites` holds
/// them back from the file: kept in order, overlaid on reads, written out by `sync`.
///
/// Reads must see them (a leader sends entries it has not synced yet), so the file as the process sees it
/// is the file on disk, cut or extended to `size`, with `chunks` written over it in order.
struct UnsyncedWrites {
    struct Chunk {
        var offset: Int64
        var bytes: [UInt8]
        var end: Int64 { offset + Int64(bytes.count) }
    }

    /// In write order; a later chunk wins where two overlap.
    private(set) var chunks: [Chunk] = []
    /// The file's length as the process sees it; meaningful only while `chunks` is not empty.
    private(set) var size: Int64 = 0

    var isEmpty: Bool { chunks.isEmpty }

    /// Starts holding writes to a file `fileSize` bytes long on disk; call when `isEmpty`, before `hold`.
    mutating func begin(fileSize: Int64) {
        precondition(chunks.isEmpty, "begin while writes are held")
        size = fileSize
    }

    /// Holds `bytes` written at `offset`.
    mutating func hold(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        let end = offset + Int64(bytes.count)
        // Appends, the common case, extend the last chunk rather than pile up small ones.
        if let last = chunks.indices.last, chunks[last].end == offset {
            chunks[last].bytes.append(contentsOf: bytes)
        } else {
            chunks.append(Chunk(offset: offset, bytes: Array(bytes)))
        }
        size = max(size, end)
    }

    /// Cuts what is held to `length`, as an ftruncate of the file would.
    mutating func truncate(to length: Int64) {
        guard !chunks.isEmpty else { return }
        chunks = chunks.compactMap { chunk in
            guard chunk.offset < length else { return nil }
            var cut = chunk
            if cut.end > length { cut.bytes.removeLast(Int(cut.end - length)) }
            return cut
        }
        size = length
    }

    /// `fromFile` (what the file on disk holds at `offset`, possibly short) with the held writes laid over
    /// it, at most `count` bytes and never past `size`.
    func overlay(_ fromFile: [UInt8], count: Int, at offset: Int64) -> [UInt8] {
        let length = Int(max(0, min(Int64(count), size - offset)))
        // Where the file on disk is shorter, the held writes fill the gap; what they do not cover reads as
        // zeros, as a hole in a sparse file would.
        var bytes = Array(fromFile.prefix(length))
        bytes.append(contentsOf: repeatElement(0, count: length - bytes.count))
        let end = offset + Int64(length)
        for chunk in chunks where chunk.offset < end && chunk.end > offset {
            let from = max(chunk.offset, offset)
            let to = min(chunk.end, end)
            let source = chunk.bytes[Int(from - chunk.offset)..<Int(to - chunk.offset)]
            bytes.replaceSubrange(Int(from - offset)..<Int(to - offset), with: source)
        }
        return bytes
    }

    /// Takes everything held, leaving nothing: the caller writes it to the file before syncing.
    mutating func take() -> (chunks: [Chunk], size: Int64) {
        defer { chunks = [] }
        return (chunks, size)
    }
}
