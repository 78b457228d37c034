// Little-endian fixed-width integers in byte buffers: every Rill storage format is little-endian, the native
// order of the machines we run on, so encoding and decoding are plain stores and loads.

extension Array where Element == UInt8 {
    mutating func appendLE(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    mutating func appendLE(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    mutating func appendLE(_ value: Int64) { appendLE(UInt64(bitPattern: value)) }

    /// Overwrites four bytes at `offset` (for a CRC computed after its frame was laid out).
    mutating func storeLE(_ value: UInt32, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self) }
    }
}

extension UnsafeRawBufferPointer {
    func u32(at offset: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func u64(at offset: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    func i64(at offset: Int) -> Int64 { Int64(bitPattern: u64(at: offset)) }
    /// The CRC-32C of `count` bytes from `offset`.
    func crc(from offset: Int, count: Int) -> UInt32 {
        CRC32C.update(0, UnsafeRawBufferPointer(rebasing: self[offset..<(offset + count)]))
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body with typed throws (the standard one only rethrows `any Error`).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(StorageError) -> R) throws(StorageError) -> R {
        let result = withUnsafeBytes { raw -> Result<R, StorageError> in
            do throws(StorageError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
