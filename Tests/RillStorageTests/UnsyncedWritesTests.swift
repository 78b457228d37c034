import Testing

@testable import RillStorage

/// `UnsyncedWrites` alone: turning `StorageFaults.loseUnsyncedWrites` on in a test process would hold back
/// the writes of every other storage test running beside it.
@Suite struct UnsyncedWritesTests {
    static func hold(_ held: inout UnsyncedWrites, _ bytes: [UInt8], at offset: Int64, fileSize: Int64) {
        if held.isEmpty { held.begin(fileSize: fileSize) }
        bytes.withUnsafeBytes { held.hold($0, at: offset) }
    }

    @Test func readsSeeHeldWritesOverTheFileAndPastItsEnd() {
        var held = UnsyncedWrites()
        Self.hold(&held, [1, 2, 3], at: 8, fileSize: 10)
        Self.hold(&held, [4, 5], at: 11, fileSize: 10)
        #expect(held.size == 13)
        let onDisk = [UInt8](repeating: 0xEE, count: 10)
        #expect(held.overlay(Array(onDisk[6...]), count: 100, at: 6) == [0xEE, 0xEE, 1, 2, 3, 4, 5])
        #expect(held.chunks.count == 1, "an append extends the chunk before it")
    }

    @Test func aLaterWriteWinsWhereTwoOverlap() {
        var held = UnsyncedWrites()
        Self.hold(&held, [1, 1, 1, 1], at: 0, fileSize: 0)
        Self.hold(&held, [2, 2], at: 1, fileSize: 0)
        #expect(held.overlay([], count: 4, at: 0) == [1, 2, 2, 1])
    }

    @Test func truncationCutsHeldWritesAndTakeEmptiesThem() {
        var held = UnsyncedWrites()
        Self.hold(&held, [1, 2, 3, 4], at: 20, fileSize: 20)
        held.truncate(to: 22)
        #expect(held.size == 22)
        #expect(held.overlay([], count: 10, at: 20) == [1, 2])
        let (chunks, size) = held.take()
        #expect(chunks.map(\.bytes) == [[1, 2]] && size == 22)
        #expect(held.isEmpty)
    }
}
