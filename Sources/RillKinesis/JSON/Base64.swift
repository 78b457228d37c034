/// Standard base64 with padding (RFC 4648 §4), the Kinesis JSON encoding of blobs.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    public static func encode<C: Collection>(_ data: C, into output: inout [UInt8]) where C.Element == UInt8 {
        output.reserveCapacity(output.count + (data.count + 2) / 3 * 4)
        var iterator = data.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                output.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else {
                output.append(UInt8(ascii: "="))
            }
            if let b2 { output.append(alphabet[Int(b2 & 0x3F)]) } else { output.append(UInt8(ascii: "=")) }
        }
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
        let input = Array(text.utf8)
        do {
            guard input.count % 4 == 0 else { throw .badLength(input.count) }
            if input.isEmpty { return [] }
            var padding = 0
            if input[input.count - 1] == UInt8(ascii: "=") { padding += 1 }
            if input[input.count - 2] == UInt8(ascii: "=") { padding += 1 }
            var output = [UInt8]()
            output.reserveCapacity(input.count / 4 * 3)
            var i = 0
            while i < input.count {
                let last = i + 4 == input.count
                let c0 = decodeTable[Int(input[i])]
                let c1 = decodeTable[Int(input[i + 1])]
                let p2 = input[i + 2] == UInt8(ascii: "=") && last && padding >= 1
                let p3 = input[i + 3] == UInt8(ascii: "=") && last && padding >= 1
                let c2 = p2 ? 0 : decodeTable[Int(input[i + 2])]
                let c3 = p3 ? 0 : decodeTable[Int(input[i + 3])]
                guard c0 != 0xFF, c1 != 0xFF, c2 != 0xFF, c3 != 0xFF, !(p2 && !p3) else { throw .badCharacter }
                output.append(c0 << 2 | c1 >> 4)
                if !p2 { output.append(c1 << 4 | c2 >> 2) }
                if !p3 { output.append(c2 << 6 | c3) }
                i += 4
            }
            return output
        }
    }
}
