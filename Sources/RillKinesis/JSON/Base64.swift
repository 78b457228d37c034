/// Standard base64 with padding (RFC 4648 §4), the Kinesis JSON encoding of blobs.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Appends the encoding of `data` to `output`. Concrete over raw bytes: a generic version costs a
    /// witness call per byte across modules, which made 10,000-record GetRecords replies CPU-bound.
    public static func encode(_ data: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let count = data.count
        let encodedCount = (count + 2) / 3 * 4
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: encodedCount))
        output.withUnsafeMutableBufferPointer { out in
            alphabet.withUnsafeBufferPointer { table in
                var i = 0
                var o = start
                while i + 3 <= count {
                    let b0 = data[i]
                    let b1 = data[i + 1]
                    let b2 = data[i + 2]
                    out[o] = table[Int(b0 >> 2)]
                    out[o + 1] = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                    out[o + 2] = table[Int((b1 & 0x0F) << 2 | b2 >> 6)]
                    out[o + 3] = table[Int(b2 & 0x3F)]
                    i += 3
                    o += 4
                }
                let remaining = count - i
                if remaining > 0 {
                    let b0 = data[i]
                    let b1: UInt8 = remaining > 1 ? data[i + 1] : 0
                    out[o] = table[Int(b0 >> 2)]
                    out[o + 1] = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                    out[o + 2] = remaining > 1 ? table[Int((b1 & 0x0F) << 2)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                }
            }
        }
    }

    public static func encode(_ data: [UInt8], into output: inout [UInt8]) {
        data.withUnsafeBytes { encode($0, into: &output) }
    }

    public static func encode(_ data: [UInt8]) -> String {
        var output: [UInt8] = []
        encode(data, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Why base64 text was refused, in the words of the AWS front end.
    public enum DecodeError: Error, Sendable, Equatable {
        case badLength(Int)
        case badCharacter
    }

    /// Decodes padded base64; the length must be a multiple of four, as AWS requires.
    public static func decode(_ text: String) throws(DecodeError) -> [UInt8] {
        var text = text
        let result: Result<[UInt8], DecodeError> = text.withUTF8 { input in
            decodeTable.withUnsafeBufferPointer { table in decode(input, table: table) }
        }
        return try result.get()
    }

    /// Decodes padded base64 held as UTF-8 bytes (a slice of a JSON body), with the rules of `decode(_:)`.
    public static func decode(utf8 input: UnsafeBufferPointer<UInt8>) throws(DecodeError) -> [UInt8] {
        try decodeTable.withUnsafeBufferPointer { table in decode(input, table: table) }.get()
    }

    private static func decode(
        _ input: UnsafeBufferPointer<UInt8>,
        table: UnsafeBufferPointer<UInt8>
    ) -> Result<[UInt8], DecodeError> {
        let count = input.count
        guard count % 4 == 0 else { return .failure(.badLength(count)) }
        if count == 0 { return .success([]) }
        var padding = 0
        if input[count - 1] == UInt8(ascii: "=") { padding += 1 }
        if input[count - 2] == UInt8(ascii: "=") { padding += 1 }
        let decodedCount = count / 4 * 3 - padding
        var failed = false
        let output = [UInt8](unsafeUninitializedCapacity: decodedCount) { out, initialized in
            var i = 0
            var o = 0
            // Full quads; the last quad may carry padding and is handled below.
            while i + 4 < count || (i + 4 == count && padding == 0) {
                let c0 = table[Int(input[i])]
                let c1 = table[Int(input[i + 1])]
                let c2 = table[Int(input[i + 2])]
                let c3 = table[Int(input[i + 3])]
                if (c0 | c1 | c2 | c3) & 0x80 != 0 {
                    failed = true
                    break
                }
                out[o] = c0 << 2 | c1 >> 4
                out[o + 1] = c1 << 4 | c2 >> 2
                out[o + 2] = c2 << 6 | c3
                i += 4
                o += 3
            }
            if !failed, padding > 0 {
                let c0 = table[Int(input[i])]
                let c1 = table[Int(input[i + 1])]
                let c2 = padding == 2 ? 0 : table[Int(input[i + 2])]
                if (c0 | c1 | c2) & 0x80 != 0 || (padding == 2 && input[i + 2] != UInt8(ascii: "=")) {
                    failed = true
                } else {
                    out[o] = c0 << 2 | c1 >> 4
                    o += 1
                    if padding == 1 {
                        out[o] = c1 << 4 | c2 >> 2
                        o += 1
                    }
                }
            }
            initialized = failed ? 0 : o
        }
        return failed ? .failure(.badCharacter) : .success(output)
    }
}
