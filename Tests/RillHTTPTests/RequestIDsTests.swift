import Testing

@testable import RillHTTP

/// Request ids are drawn from whole random words now (one system call per 8 bytes on Linux), not a character
/// at a time: they must keep their shapes and still not repeat.
@Suite struct RequestIDsTests {
    @Test func requestIDsAreLowercaseUUIDsThatDoNotRepeat() {
        let ids = (0..<2_000).map { _ in RequestIDs.make() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(50) {
            let groups = id.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
            #expect(groups == [8, 4, 4, 4, 12])
            #expect(id.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase })
        }
        // Every hex position takes more than one value: no nibble of the draw is dropped or repeated.
        for position in 0..<36 where ![8, 13, 18, 23].contains(position) {
            let seen = Set(ids.map { Array($0)[position] })
            #expect(seen.count > 8, "position \(position) took only \(seen.sorted())")
        }
    }

    @Test func extendedIDsAre96Base64CharactersThatDoNotRepeat() {
        let ids = (0..<2_000).map { _ in RequestIDs.extendedID() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(50) {
            #expect(id.count == 96)
            #expect(id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "/" })
        }
    }
}
