import Foundation
import RillModel
import RillStorage
import Testing

@Suite struct SegmentedLogTruncationTests {
    @Test func truncateSuffixWithinTheActiveSegment() throws {
        try withTemporaryDirectory { directory in
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            try log.append(makeEntries(1...50))
            let active = try #require(log.segments().last)
            let cut = active.lastIndex.rawValue - 2
            try log.truncateSuffix(after: LogIndex(cut))
            #expect(log.lastIndex == LogIndex(cut))
            try log.append(makeEntries((cut + 1)...(cut + 5), term: 2))
            #expect(log.lastTerm == Term(2))
            #expect(try expectEntries(log, 1...cut))
            #expect(try expectEntries(log, (cut + 1)...(cut + 5), term: 2))
        }
    }

    @Test(arguments: [UInt64(0), 1, 17, 30, 77])
    func truncateSuffixAcrossSegmentsSurvivesReopen(cut: UInt64) throws {
        try withTemporaryDirectory { directory in
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(makeEntries(1...200))
                try log.sync()
                try log.truncateSuffix(after: LogIndex(cut))
                #expect(log.lastIndex == LogIndex(cut))
                #expect(log.durableIndex == LogIndex(cut))
                #expect(log.lastTerm == (cut == 0 ? .zero : Term(1)))
                #expect(log.segments().allSatisfy { $0.firstIndex <= LogIndex(cut + 1) })
                #expect(try log.entry(at: LogIndex(cut + 1)) == nil)
                try log.append(makeEntries((cut + 1)...(cut + 100), term: 2))
                #expect(try log.entry(at: LogIndex(cut + 1)) == makeEntry(cut + 1, term: 2))
                try log.sync()
            }
            let log = try SegmentedLog.open(
                directory: directory,
                options: smallOptions,
                durableIndex: LogIndex(cut + 100)
            )
            #expect(log.recovery == .clean)
            #expect(log.lastIndex == LogIndex(cut + 100))
            if cut > 0 { #expect(try expectEntries(log, 1...cut)) }
            #expect(try expectEntries(log, (cut + 1)...(cut + 100), term: 2))
            #expect(try log.firstIndex(atOrAfterTimestamp: stamp(cut + 51)) == LogIndex(cut + 51))
        }
    }

    @Test(arguments: [UInt64(77), 150, 199])
    func truncatingAndReappendingWritesTheSameFiles(cut: UInt64) throws {
        try withTemporaryDirectory { directory in
            do {
                let reference = try SegmentedLog.open(directory: "\(directory)/reference", options: smallOptions)
                try reference.append(makeEntries(1...200))
                try reference.append(makeEntries(201...260))
                let replayed = try SegmentedLog.open(directory: "\(directory)/replayed", options: smallOptions)
                try replayed.append(makeEntries(1...200))
                try replayed.truncateSuffix(after: LogIndex(cut))
                try replayed.append(makeEntries((cut + 1)...260))
                #expect(replayed.segments() == reference.segments())
            }
            let names = try segmentFiles("\(directory)/reference", suffix: "").map {
                URL(fileURLWithPath: $0).lastPathComponent
            }
            #expect(
                try segmentFiles("\(directory)/replayed", suffix: "").map { URL(fileURLWithPath: $0).lastPathComponent }
                    == names
            )
            for name in names {
                #expect(
                    try readFile("\(directory)/replayed/\(name)") == readFile("\(directory)/reference/\(name)"),
                    "\(name)"
                )
            }
        }
    }

    @Test func truncateSuffixAtASegmentBoundary() throws {
        try withTemporaryDirectory { directory in
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            try log.append(makeEntries(1...200))
            let boundary = log.segments()[3].lastIndex
            try log.truncateSuffix(after: boundary)
            #expect(log.lastIndex == boundary)
            #expect(log.lastTerm == Term(1))
            #expect(try log.term(at: boundary) == Term(1))
            try log.append([makeEntry(boundary.rawValue + 1, term: 4)])
            #expect(try log.term(at: boundary.next) == Term(4))
        }
    }

    @Test func truncateSuffixBelowTheLogStartIsRefused() throws {
        try withTemporaryDirectory { directory in
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            try log.append(makeEntries(1...100))
            try log.trimPrefix(before: LogIndex(50))
            #expect(throws: StorageError.compacted(requested: LogIndex(10), firstIndex: LogIndex(50))) {
                try log.truncateSuffix(after: LogIndex(10))
            }
            try log.truncateSuffix(after: LogIndex(49))
            #expect(log.lastIndex == LogIndex(49))
            #expect(log.lastTerm == Term(1))
            try log.append(makeEntries(50...60, term: 2))
            #expect(try expectEntries(log, 50...60, term: 2))
        }
    }

    @Test func trimPrefixDeletesWholeSegmentsAndSurvivesReopen() throws {
        try withTemporaryDirectory { directory in
            let start: LogIndex
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(makeEntries(1...200))
                let segmentsBefore = log.segmentCount
                start = log.segments()[4].firstIndex.advanced(by: 2)
                try log.trimPrefix(before: start)
                #expect(log.firstIndex == start)
                #expect(log.segmentCount == segmentsBefore - 4)
                #expect(log.segments().first?.firstIndex == start.advanced(by: -2))
                #expect(throws: StorageError.compacted(requested: LogIndex(1), firstIndex: start)) {
                    try log.entries(from: LogIndex(1), maxCount: 1, maxBytes: 1)
                }
                #expect(try log.entry(at: start.previous) == nil)
                #expect(try log.term(at: start.previous) == Term(1))
                #expect(try log.firstIndex(atOrAfterTimestamp: 0) == start)
                try log.trimPrefix(before: LogIndex(3))  // behind the start: no effect
                #expect(log.firstIndex == start)
                try log.sync()
            }
            let log = try SegmentedLog.open(directory: directory, options: smallOptions, durableIndex: LogIndex(200))
            #expect(log.recovery == .clean)
            #expect(log.firstIndex == start)
            #expect(try log.term(at: start.previous) == Term(1))
            #expect(try expectEntries(log, start.rawValue...200))
        }
    }

    @Test func trimPrefixKeepsItsContextAcrossReopenAndRefusesADamagedOne() throws {
        try withTemporaryDirectory { directory in
            let context: [UInt8] = [1, 0, 0, 0, 3, 9, 8, 7]
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(makeEntries(1...50))
                #expect(log.startContext.isEmpty)
                try log.trimPrefix(before: LogIndex(20), context: context)
                #expect(log.startContext == context && log.termBeforeStart == Term(1))
                try log.sync()
            }
            let reopened = try SegmentedLog.open(
                directory: directory,
                options: smallOptions,
                durableIndex: LogIndex(50)
            )
            #expect(reopened.recovery == .clean)
            #expect(reopened.firstIndex == LogIndex(20) && reopened.startContext == context)
            // One flipped bit in the context: the file is refused as corrupt, not half-believed.
            let path = directory + "/logstart"
            var bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
            bytes[21] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let damaged = try SegmentedLog.open(directory: directory, options: smallOptions, durableIndex: LogIndex(50))
            #expect(damaged.recovery != .clean)
            #expect(damaged.startContext.isEmpty)
        }
    }

    @Test func trimPrefixToTheEndEmptiesTheLog() throws {
        try withTemporaryDirectory { directory in
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(makeEntries(1...100))
                try log.trimPrefix(before: LogIndex(101))
                #expect(log.firstIndex == LogIndex(101))
                #expect(log.lastIndex == LogIndex(100))
                #expect(log.lastTerm == Term(1))
                #expect(log.segmentCount == 1)
                #expect(try log.entries(from: LogIndex(101), maxCount: 10, maxBytes: 100).isEmpty)
            }
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            #expect(log.firstIndex == LogIndex(101))
            #expect(log.lastIndex == LogIndex(100))
            #expect(log.lastTerm == Term(1))
            try log.append([makeEntry(101, term: 2)])
            #expect(try expectEntries(log, 101...101, term: 2))
        }
    }

    @Test func trimPrefixPastTheEndStartsOverAtTheSnapshot() throws {
        try withTemporaryDirectory { directory in
            do {
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                try log.append(makeEntries(1...100))
                try log.trimPrefix(before: LogIndex(1001), termBefore: Term(7))
                #expect(log.firstIndex == LogIndex(1001))
                #expect(log.lastIndex == LogIndex(1000))
                #expect(log.lastTerm == Term(7))
                #expect(try log.term(at: LogIndex(1000)) == Term(7))
                #expect(log.segmentCount == 1)
                try log.append(makeEntries(1001...1050, term: 8))
                try log.sync()
            }
            let log = try SegmentedLog.open(directory: directory, options: smallOptions, durableIndex: LogIndex(1050))
            #expect(log.recovery == .clean)
            #expect(log.firstIndex == LogIndex(1001))
            #expect(try log.term(at: LogIndex(1000)) == Term(7))
            #expect(try expectEntries(log, 1001...1050, term: 8))
            #expect(try segmentFiles(directory).first?.hasSuffix("00000000000000001001.log") == true)
        }
    }
}
