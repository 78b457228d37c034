import Foundation
import RillModel
import RillStorage

/// Runs `body` with a fresh directory path under the system temporary directory, removed afterwards.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rill-storage-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func withTemporaryDirectoryAsync<R>(_ body: (String) async throws -> R) async throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rill-storage-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// A non-monotonic stamp: mostly rising by 10 ms, every fifth entry 300 ms in the past.
func stamp(_ index: UInt64) -> Int64 { 1_000_000 + Int64(index) * 10 - (index % 5 == 0 ? 300 : 0) }

/// A deterministic entry whose payload size and content vary with the index.
func makeEntry(_ index: UInt64, term: UInt64 = 1, payloadSize: Int? = nil) -> LogEntry {
    let size = payloadSize ?? Int((index &* 37) % 200)
    let payload = (0..<size).map { UInt8(truncatingIfNeeded: Int(index) &* 31 &+ $0) }
    return LogEntry(
        term: Term(term),
        index: LogIndex(index),
        kind: EntryKind.allCases[Int(index % 6)],
        timestampMillis: stamp(index),
        payload: payload
    )
}

func makeEntries(_ range: ClosedRange<UInt64>, term: UInt64 = 1) -> [LogEntry] {
    range.map { makeEntry($0, term: term) }
}

/// The on-disk size of an entry's frame: a 33-byte header and the payload (see `EntryFrame`).
func frameSize(_ entry: LogEntry) -> Int { 33 + entry.payload.count }

/// Small segments and a dense index, so a few hundred entries span many segments and index records.
let smallOptions = SegmentedLog.Options(segmentBytes: 1024, indexIntervalBytes: 200)

func segmentFiles(_ directory: String, suffix: String = ".log") throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(suffix) }.sorted()
        .map { "\(directory)/\($0)" }
}

func readFile(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Reads every entry of `log` one call at a time and checks it against `makeEntry`.
func expectEntries(_ log: SegmentedLog, _ range: ClosedRange<UInt64>, term: UInt64 = 1) throws -> Bool {
    let read = try log.entries(from: LogIndex(range.lowerBound), maxCount: range.count, maxBytes: Int.max)
    return read == makeEntries(range, term: term)
}
