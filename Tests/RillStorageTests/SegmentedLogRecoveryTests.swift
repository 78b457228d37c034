import Foundation
import RillModel
import RillStorage
import Testing

@Suite struct SegmentedLogRecoveryTests {
    /// Writes entries 1...count with small segments and returns the segment files.
    private func populate(_ directory: String, count: UInt64) throws -> [String] {
        let log = try SegmentedLog.open(directory: directory, options: smallOptions)
        try log.append(makeEntries(1...count))
        try log.sync()
        return try segmentFiles(directory)
    }

    private func isDamaged(_ report: RecoveryReport, lastGood: LogIndex) -> Bool {
        if case .damaged(_, let lastGoodIndex) = report { return lastGoodIndex == lastGood }
        return false
    }

    @Test func tornTailIsCutAtEveryByteOfTheLastEntry() throws {
        try withTemporaryDirectory { directory in
            let count: UInt64 = 60
            let last = try #require(try populate(directory, count: count).last)
            let original = try readFile(last)
            let lastStart = original.count - frameSize(makeEntry(count))
            for cut in lastStart..<original.count {
                try writeFile(last, Array(original[..<cut]))
                let log = try SegmentedLog.open(
                    directory: directory,
                    options: smallOptions,
                    durableIndex: LogIndex(count - 1)
                )
                if cut == lastStart {
                    #expect(log.recovery == .clean)
                } else {
                    #expect(log.recovery == .truncatedTornTail(bytes: Int64(cut - lastStart)), "cut at \(cut)")
                }
                #expect(log.lastIndex == LogIndex(count - 1))
                #expect(try expectEntries(log, 1...(count - 1)))
                #expect(try readFile(last).count == lastStart)
                try log.append([makeEntry(count, term: 2)])
                #expect(try log.entry(at: LogIndex(count)) == makeEntry(count, term: 2))
            }
        }
    }

    @Test func zeroFilledTailIsTorn() throws {
        try withTemporaryDirectory { directory in
            let last = try #require(try populate(directory, count: 30).last)
            let original = try readFile(last)
            try writeFile(last, original + [UInt8](repeating: 0, count: 4096))
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            #expect(log.recovery == .truncatedTornTail(bytes: 4096))
            #expect(try expectEntries(log, 1...30))
        }
    }

    @Test func tornTailBelowTheDurableIndexIsDamage() throws {
        try withTemporaryDirectory { directory in
            let last = try #require(try populate(directory, count: 30).last)
            let original = try readFile(last)
            try writeFile(last, Array(original.dropLast(3)))
            let log = try SegmentedLog.open(directory: directory, options: smallOptions, durableIndex: LogIndex(30))
            #expect(isDamaged(log.recovery, lastGood: LogIndex(29)))
            #expect(log.lastIndex == LogIndex(29))
            #expect(try expectEntries(log, 1...29))
        }
    }

    @Test func logEndingBelowItsDurableIndexIsDamaged() throws {
        try withTemporaryDirectory { directory in
            _ = try populate(directory, count: 30)
            let log = try SegmentedLog.open(directory: directory, options: smallOptions, durableIndex: LogIndex(31))
            #expect(isDamaged(log.recovery, lastGood: LogIndex(30)))
            #expect(try expectEntries(log, 1...30))
        }
    }

    /// Flips every byte of entry `victim` (in the active segment, with valid entries after it) in turn.
    @Test func flippedByteBeforeValidEntriesIsDamageInTheActiveSegment() throws {
        try withTemporaryDirectory { directory in
            let files = try populate(directory, count: 60)
            let last = try #require(files.last)
            let original = try readFile(last)
            let reopened = try SegmentedLog.open(directory: directory, options: smallOptions)
            let active = try #require(reopened.segments().last)
            let victim = active.firstIndex.rawValue + 1
            #expect(victim < active.lastIndex.rawValue)
            var offset = 20  // segment header
            for index in active.firstIndex.rawValue..<victim { offset += frameSize(makeEntry(index)) }
            for byte in offset..<(offset + frameSize(makeEntry(victim))) {
                var damaged = original
                damaged[byte] ^= 0xFF
                try writeFile(last, damaged)
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                #expect(isDamaged(log.recovery, lastGood: LogIndex(victim - 1)), "byte \(byte - offset)")
                #expect(log.lastIndex == LogIndex(victim - 1))
                #expect(try expectEntries(log, 1...(victim - 1)))
                try writeFile(last, original)
            }
        }
    }

    @Test func flippedByteInASealedSegmentWithoutIndexIsDamage() throws {
        try withTemporaryDirectory { directory in
            let files = try populate(directory, count: 120)
            let layout = try SegmentedLog.open(directory: directory, options: smallOptions).segments()
            let sealed = layout[2]
            let path = files[2]
            let indexPath = path.replacingOccurrences(of: ".log", with: ".idx")
            let original = try readFile(path)
            let victim = sealed.firstIndex.rawValue + 2
            var offset = 20
            for index in sealed.firstIndex.rawValue..<victim { offset += frameSize(makeEntry(index)) }
            // A sample of bytes in every field: length, CRC, term, index, kind, stamp, payload.
            for field in [0, 3, 4, 7, 8, 15, 16, 23, 24, 25, 32, 33, frameSize(makeEntry(victim)) - 1] {
                var damaged = original
                damaged[offset + field] ^= 0x5A
                try writeFile(path, damaged)
                try? FileManager.default.removeItem(atPath: indexPath)
                do {
                    let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                    #expect(isDamaged(log.recovery, lastGood: LogIndex(victim - 1)), "field byte \(field)")
                    #expect(log.lastIndex == LogIndex(victim - 1))
                    #expect(log.segmentCount == 3)
                    #expect(try expectEntries(log, 1...(victim - 1)))
                    try log.append(makeEntries(victim...(victim + 20), term: 3))
                    #expect(
                        try log.entries(from: LogIndex(victim), maxCount: 100, maxBytes: .max)
                            == makeEntries(victim...(victim + 20), term: 3)
                    )
                }
                // Start over for the next byte.
                for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
                    try FileManager.default.removeItem(atPath: "\(directory)/\(file)")
                }
                _ = try populate(directory, count: 120)
            }
        }
    }

    @Test func flippedByteBehindAValidIndexIsReportedOnRead() throws {
        try withTemporaryDirectory { directory in
            let files = try populate(directory, count: 120)
            var damaged = try readFile(files[1])
            damaged[damaged.count - 2] ^= 0x01  // payload of the segment's last entry
            try writeFile(files[1], damaged)
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            let segment = log.segments()[1]
            #expect(try expectEntries(log, 1...(segment.lastIndex.rawValue - 1)))
            #expect(throws: StorageError.self) { try log.entry(at: segment.lastIndex) }
            #expect(try log.entry(at: segment.lastIndex.next) == makeEntry(segment.lastIndex.next.rawValue))
        }
    }

    @Test func missingMiddleSegmentIsDamage() throws {
        try withTemporaryDirectory { directory in
            let files = try populate(directory, count: 120)
            let layout = try SegmentedLog.open(directory: directory, options: smallOptions).segments()
            try FileManager.default.removeItem(atPath: files[3])
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            #expect(isDamaged(log.recovery, lastGood: layout[2].lastIndex))
            #expect(log.lastIndex == layout[2].lastIndex)
            #expect(log.segmentCount == 3)
            #expect(try expectEntries(log, 1...layout[2].lastIndex.rawValue))
            #expect(try segmentFiles(directory).count == 3)
        }
    }

    @Test func badSegmentHeaderIsDamage() throws {
        try withTemporaryDirectory { directory in
            let files = try populate(directory, count: 120)
            let layout = try SegmentedLog.open(directory: directory, options: smallOptions).segments()
            var bytes = try readFile(files[2])
            bytes[3] ^= 0x01
            try writeFile(files[2], bytes)
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            #expect(isDamaged(log.recovery, lastGood: layout[1].lastIndex))
            #expect(try expectEntries(log, 1...layout[1].lastIndex.rawValue))
            try log.append([makeEntry(layout[1].lastIndex.rawValue + 1)])
        }
    }

    @Test func segmentCreationCutShortIsTorn() throws {
        try withTemporaryDirectory { directory in
            _ = try populate(directory, count: 40)
            let stray = "\(directory)/00000000000000000041.log"
            try writeFile(stray, Array("RILLSEG".utf8))
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            #expect(log.recovery == .truncatedTornTail(bytes: 7))
            #expect(try expectEntries(log, 1...40))
            try log.append([makeEntry(41)])
            #expect(try log.entry(at: LogIndex(41)) == makeEntry(41))
        }
    }

    @Test func garbageFilesNeverCrashOpen() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var generator = SystemRandomNumberGenerator()
            for size in [0, 1, 19, 20, 21, 33, 100, 5000] {
                let junk = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                try writeFile("\(directory)/00000000000000000001.log", junk)
                try writeFile("\(directory)/00000000000000000001.idx", junk)
                try writeFile("\(directory)/logstart", junk)
                let log = try SegmentedLog.open(directory: directory, options: smallOptions)
                #expect(log.lastIndex < log.firstIndex)
                try log.append([makeEntry(log.lastIndex.next.rawValue)])
                for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
                    try FileManager.default.removeItem(atPath: "\(directory)/\(file)")
                }
            }
        }
    }
}

@Suite struct QuarantineTests {
    @Test("damage moves what recovery cuts off into damaged/, byte for byte, instead of deleting it")
    func damageIsQuarantined() throws {
        try withTemporaryDirectory { directory in
            let options = SegmentedLog.Options(segmentBytes: 4096, indexIntervalBytes: 512)
            let log = try SegmentedLog.open(directory: directory, options: options)
            try log.append(makeEntries(1...120))
            try log.sync()
            let files = try segmentFiles(directory)
            #expect(files.count >= 3)
            // Flip a byte in the first entry of the second segment: everything from there on is cut.
            var second = try readFile(files[1])
            let secondOriginal = second
            second[24] ^= 0xFF
            try writeFile(files[1], second)
            // Without its index the segment is scanned at open, which is where damage is found.
            try FileManager.default.removeItem(atPath: String(files[1].dropLast(4)) + ".idx")
            let third = try readFile(files[2])
            let reopened = try SegmentedLog.open(directory: directory, options: options)
            guard case .damaged = reopened.recovery else {
                Issue.record("expected damage, got \(reopened.recovery)")
                return
            }
            let quarantined = try FileManager.default.contentsOfDirectory(atPath: directory + "/damaged").sorted()
            let thirdName = (files[2] as NSString).lastPathComponent
            #expect(quarantined.contains(thirdName))
            #expect(try readFile(directory + "/damaged/" + thirdName) == third)
            let tail = quarantined.first { $0.contains(".tail-at-") }
            let tailBytes = try readFile(directory + "/damaged/" + (tail ?? "missing"))
            #expect(tailBytes.count == secondOriginal.count - 20)
            #expect(Array(tailBytes.dropFirst(5)) == Array(secondOriginal.dropFirst(25)))
        }
    }
}
