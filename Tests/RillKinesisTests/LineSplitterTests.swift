import RillKinesis
import Testing

@Suite struct LineSplitterTests {
    @Test("complete lines only, newline included; the unfinished tail waits")
    func lines() {
        let bytes = Array("a\nbb\nccc".utf8)
        let (lines, consumed) = LineSplitter.split(bytes, maxLineBytes: 100, finished: false)
        #expect(lines == [0..<2, 2..<5])
        #expect(consumed == 5)
    }

    @Test("a finished file gives its unterminated last line too")
    func finished() {
        let (lines, consumed) = LineSplitter.split(Array("a\nbb".utf8), maxLineBytes: 100, finished: true)
        #expect(lines == [0..<2, 2..<4])
        #expect(consumed == 4)
    }

    @Test("a line longer than the limit is cut into pieces of the limit")
    func long() {
        let (lines, consumed) = LineSplitter.split(Array("abcdefg\nh".utf8), maxLineBytes: 3, finished: false)
        #expect(lines == [0..<3, 3..<6, 6..<8])
        #expect(consumed == 8)
    }
}
