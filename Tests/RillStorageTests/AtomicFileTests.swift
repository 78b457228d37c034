import RillStorage
import Testing

@Suite struct AtomicFileTests {
    @Test func replacesContentWhole() throws {
        try withTemporaryDirectory { directory in
            _ = try SegmentedLog.open(directory: directory)  // creates the directory
            let path = "\(directory)/state"
            #expect(try AtomicFile.read(path: path) == nil)
            try AtomicFile.write(path: path, bytes: [1, 2, 3])
            #expect(try AtomicFile.read(path: path) == [1, 2, 3])
            try AtomicFile.write(path: path, bytes: [9])
            #expect(try AtomicFile.read(path: path) == [9])
            #expect(try segmentFiles(directory, suffix: ".tmp").isEmpty)
        }
    }
}
