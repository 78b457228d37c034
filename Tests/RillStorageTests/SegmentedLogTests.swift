import Foundation
import RillModel
import RillStorage
import Testing

@Suite struct SegmentedLogTests {
    @Test func newLogIsEmpty() throws {
        try withTemporaryDirectory { directory in
            let log = try SegmentedLog.open(directory: "\(directory)/a/b")
            #expect(log.firstIndex == LogIndex(1))
            #expect(log.lastIndex == .zero)
            #expect(log.lastTerm == .zero)
            #expect(log.recovery == .clean)
            #expect(try log.entries(from: LogIndex(1), maxCount: 10, maxBytes: 1000).isEmpty)
            #expect(try log.entry(at: LogIndex(1)) == nil)
            #expect(try log.term(at: .zero) == .zero)
            #expect(try log.firstIndex(atOrAfterTimestamp: 0) == nil)
            #expect(
                try segmentFiles("\(directory)/a/b").map { URL(fileURLWithPath: $0).lastPathComponent } == [
                    "00000000000000000001.log"
                ]
            )
        }
    }

    @Test func roundTripAcrossSegmentRollsAndReopen() throws {
        try withTemporaryDirectory { directory in
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                for start in stride(from: UInt64(1), through: 300, by: 10) {
                    try log.append(makeEntries(start...(start + 9)))
                }
                #expect(log.lastIndex == LogIndex(300))
                #expect(log.segmentCount > 10)
                #expect(try expectEntries(log, 1...300))
                try log.sync()
                #expect(log.durableIndex == LogIndex(300))
            }
            let log = try SegmentedLog.open(directory: directory, options: smallOptions, durableIndex: LogIndex(300))
            #expect(log.recovery == .clean)
            #expect(log.lastIndex == LogIndex(300))
            #expect(log.lastTerm == Term(1))
            #expect(try expectEntries(log, 1...300))
            for index in UInt64(1)...300 {
                #expect(try log.entry(at: LogIndex(index)) == makeEntry(index))
                #expect(try log.term(at: LogIndex(index)) == Term(1))
            }
            let segments = log.segments()
            #expect(segments.count == log.segmentCount)
            #expect(segments.first?.firstIndex == LogIndex(1))
            #expect(segments.last?.lastIndex == LogIndex(300))
            for (earlier, later) in zip(segments, segments.dropFirst()) {
                #expect(later.firstIndex == earlier.lastIndex.next)
            }
            #expect(log.byteSize == segments.reduce(0) { $0 + $1.bytes })
            // Appends continue after reopen.
            try log.append([makeEntry(301, term: 2)])
            #expect(log.lastTerm == Term(2))
            #expect(try log.entry(at: LogIndex(301)) == makeEntry(301, term: 2))
        }
    }

    @Test func readsHonourCountAndByteLimits() throws {
        try withTemporaryDirectory { directory in
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            try log.append(makeEntries(1...100))
            #expect(try log.entries(from: LogIndex(10), maxCount: 5, maxBytes: .max) == makeEntries(10...14))
            // At least one entry, however small maxBytes is.
            #expect(try log.entries(from: LogIndex(42), maxCount: 10, maxBytes: 1) == [makeEntry(42)])
            let budget = frameSize(makeEntry(50)) + frameSize(makeEntry(51)) + frameSize(makeEntry(52))
            #expect(try log.entries(from: LogIndex(50), maxCount: 100, maxBytes: budget) == makeEntries(50...52))
            #expect(try log.entries(from: LogIndex(95), maxCount: 100, maxBytes: .max) == makeEntries(95...100))
            #expect(try log.entries(from: LogIndex(101), maxCount: 100, maxBytes: .max).isEmpty)
        }
    }

    @Test func largeEntriesRoundTrip() throws {
        try withTemporaryDirectory { directory in
            let log = try SegmentedLog.open(directory: directory, options: SegmentedLog.Options(segmentBytes: 1 << 20))
            let big = [makeEntry(1, payloadSize: 500 << 10), makeEntry(2, payloadSize: 3 << 20), makeEntry(3)]
            try log.append(big)
            #expect(try log.entries(from: LogIndex(1), maxCount: 10, maxBytes: .max) == big)
            #expect(try log.entries(from: LogIndex(2), maxCount: 10, maxBytes: 10) == [big[1]])
            #expect(log.segmentCount == 2)
        }
    }

    @Test func timestampLookupUsesTheRunningMaximum() throws {
        try withTemporaryDirectory { directory in
            var stamps: [Int64] = []
            var runningMax: [Int64] = []
            let entries = (UInt64(1)...400).map { index -> LogEntry in
                var entry = makeEntry(index)
                // Jumps back and forth: a late stamp, then a run of older ones.
                entry.timestampMillis = index % 50 == 0 ? stamp(index) + 2_000 : stamp(index)
                stamps.append(entry.timestampMillis)
                runningMax.append(max(runningMax.last ?? .min, entry.timestampMillis))
                return entry
            }
            func expected(_ millis: Int64) -> LogIndex? {
                runningMax.firstIndex(where: { $0 >= millis }).map { LogIndex(UInt64($0 + 1)) }
            }
            func check(_ log: SegmentedLog) throws {
                let probes = Set(stamps.flatMap { [$0 - 1, $0, $0 + 1] }).union([.min, 0, .max])
                for millis in probes.sorted() {
                    #expect(try log.firstIndex(atOrAfterTimestamp: millis) == expected(millis), "millis \(millis)")
                }
            }
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(entries)
                try check(log)
                let segments = log.segments()
                for segment in segments where segment.lastIndex >= segment.firstIndex {
                    #expect(segment.maxTimestamp == runningMax[Int(segment.lastIndex.rawValue) - 1])
                }
            }
            // From index files, then from rebuilt ones.
            try check(try SegmentedLog.open(directory: directory, options: smallOptions))
            for file in try segmentFiles(directory, suffix: ".idx") { try FileManager.default.removeItem(atPath: file) }
            try check(try SegmentedLog.open(directory: directory, options: smallOptions))
        }
    }

    @Test func missingIndexFilesAreRebuiltIdentically() throws {
        try withTemporaryDirectory { directory in
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(makeEntries(1...200))
            }
            let indexFiles = try segmentFiles(directory, suffix: ".idx")
            #expect(indexFiles.count == (try segmentFiles(directory)).count - 1)
            let original = try indexFiles.map(readFile)
            try FileManager.default.removeItem(atPath: indexFiles[3])
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                #expect(log.recovery == .clean)
                #expect(try expectEntries(log, 1...200))
            }
            for file in indexFiles { try FileManager.default.removeItem(atPath: file) }
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            #expect(log.recovery == .clean)
            #expect(try expectEntries(log, 1...200))
            for index in UInt64(1)...200 { #expect(try log.entry(at: LogIndex(index)) == makeEntry(index)) }
            #expect(try indexFiles.map(readFile) == original)
        }
    }

    @Test func corruptOrMisplacedIndexFilesAreNeverTrusted() throws {
        try withTemporaryDirectory { directory in
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(makeEntries(1...200))
            }
            let indexFiles = try segmentFiles(directory, suffix: ".idx")
            let original = try indexFiles.map(readFile)
            // Flip a byte in a record, cut one short, swap two files, and make one empty.
            var flipped = original[1]
            flipped[20] ^= 0x40
            try writeFile(indexFiles[1], flipped)
            try writeFile(indexFiles[2], Array(original[2].dropLast(5)))
            try writeFile(indexFiles[3], original[4])
            try writeFile(indexFiles[4], original[3])
            try writeFile(indexFiles[5], [])
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            #expect(log.recovery == .clean)
            #expect(try expectEntries(log, 1...200))
            for index in UInt64(1)...200 { #expect(try log.entry(at: LogIndex(index)) == makeEntry(index)) }
            #expect(try indexFiles.map(readFile) == original)
        }
    }

    @Test func readingTenThousandEntriesIsFast() throws {
        try withTemporaryDirectory { directory in
            let log = try SegmentedLog.open(directory: directory)
            let entries = (UInt64(1)...10_000).map { makeEntry($0, payloadSize: 1024) }
            try log.append(entries)
            let clock = ContinuousClock()
            var read: [LogEntry] = []
            let elapsed = try clock.measure {
                read = try log.entries(from: LogIndex(1), maxCount: 10_000, maxBytes: .max)
            }
            #expect(read.count == 10_000)
            #expect(read.last == entries.last)
            // Milliseconds in release builds; the bound is loose for debug builds on a shared machine.
            #expect(elapsed < .seconds(2), "read 10,000 entries in \(elapsed)")
        }
    }
}
