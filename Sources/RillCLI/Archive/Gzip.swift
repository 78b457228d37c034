import CRillZlib

/// Compresses a whole object into one gzip member (RFC 1952) with the system zlib: what `gzip -d` and Firehose's
/// GZIP readers expect.
enum Gzip {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func compress(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // Window bits 15 + 16: a gzip header and trailer rather than zlib's.
        let started = CRillZlib_deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        guard started == Z_OK else { throw Failure(description: "deflateInit2: \(started)") }
        defer { deflateEnd(&stream) }
        // deflateBound covers the zlib wrapper; a gzip one is 12 bytes longer.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        var input = input
        let result: Int32 = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END else { throw Failure(description: "deflate: \(result)") }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}
