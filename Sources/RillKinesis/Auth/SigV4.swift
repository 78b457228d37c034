import RillModel

/// The parts of AWS Signature Version 4 that signing and verifying share: the canonical request, the string
/// to sign and the derived key. Pure; used by `SigV4Verifier` on the server and `SigV4Signer` in `rill bench`.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// What a signer puts in place of the body's hash when it signs without the body (presigned URLs, S3-style
    /// signers over TLS).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// A credential scope: `AKID/20240101/us-east-1/kinesis/aws4_request`.
    public struct Scope: Sendable, Equatable {
        public var accessKeyID: String
        public var date: String
        public var region: String
        public var service: String

        public init(accessKeyID: String, date: String, region: String, service: String = "kinesis") {
            self.accessKeyID = accessKeyID
            self.date = date
            self.region = region
            self.service = service
        }

        /// Parses the `Credential` value; nil unless it has five parts ending in `aws4_request`.
        init?(credential: String) {
            let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 5, parts[4] == "aws4_request", !parts[0].isEmpty else { return nil }
            self.init(accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3])
        }

        public var credential: String { "\(accessKeyID)/\(terminated)" }
        /// The scope without the key id, as it appears in the string to sign.
        var terminated: String { "\(date)/\(region)/\(service)/aws4_request" }
    }

    /// The hex signature of a request whose canonical form has been built.
    static func signature(secret: String, scope: Scope, amzDate: String, canonicalRequest: String) -> String {
        let stringToSign = [algorithm, amzDate, scope.terminated, hex(SHA256.hash(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = SHA256.hmac(key: Array(("AWS4" + secret).utf8), message: Array(scope.date.utf8))
        for part in [scope.region, scope.service, "aws4_request"] {
            key = SHA256.hmac(key: key, message: Array(part.utf8))
        }
        return hex(SHA256.hmac(key: key, message: Array(stringToSign.utf8)))
    }

    /// Method, path, canonical query, the signed headers' canonical lines, their names and the payload hash.
    /// `headers` are matched case-insensitively; repeated headers join with commas in arrival order.
    static func canonicalRequest(
        method: String,
        path: String,
        canonicalQuery: String,
        headers: [(name: String, value: String)],
        signedHeaders: [String],
        payloadHash: String
    ) -> String {
        var canonicalHeaders = ""
        for name in signedHeaders {
            let values = headers.filter { $0.name.lowercased() == name }.map { canonicalValue($0.value) }
            canonicalHeaders += name + ":" + values.joined(separator: ",") + "\n"
        }
        return [
            method, path.isEmpty ? "/" : path, canonicalQuery, canonicalHeaders, signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    static func canonicalValue(_ value: String) -> String {
        value.trimmingSpaces.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// The query as SigV4 signs it: every name and value percent-decoded, then encoded with only the unreserved
    /// characters left bare, sorted by name then value. `excluding` drops a parameter (a presigned URL's own
    /// `X-Amz-Signature`).
    static func canonicalQuery(_ query: String, excluding: String? = nil) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(pieces[0])
            if name == excluding { continue }
            pairs.append((uriEncoded(name), uriEncoded(pieces.count > 1 ? percentDecoded(pieces[1]) : "")))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(
            separator: "&"
        )
    }

    /// The query's parameters, percent-decoded; the last of a repeated name wins.
    public static func queryParameters(_ query: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            parameters[percentDecoded(pieces[0])] = pieces.count > 1 ? percentDecoded(pieces[1]) : ""
        }
        return parameters
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var i = 0
        while i < source.count {
            if source[i] == UInt8(ascii: "%"), i + 2 < source.count, let high = hexValue(source[i + 1]),
                let low = hexValue(source[i + 2])
            {
                bytes.append(high << 4 | low)
                i += 3
            } else {
                bytes.append(source[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 3986 encoding as SigV4 wants it: `A-Z a-z 0-9 - _ . ~` bare, every other byte as `%XX` (upper case).
    public static func uriEncoded(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { hexValue($0) != nil }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// `yyyyMMdd'T'HHmmss'Z'` to epoch milliseconds.
    static func parseAmzDate(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard bytes[i] >= 0x30, bytes[i] <= 0x39 else { return nil }
                value = value * 10 + Int(bytes[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
            let minute = number(11..<13), let second = number(13..<15)
        else { return nil }
        return CivilTime.millis(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// Epoch milliseconds to `yyyyMMdd'T'HHmmss'Z'`.
    public static func amzDate(millis: Int64) -> String {
        let c = CivilTime.components(millis)
        return CivilTime.pad(c.year, 4) + CivilTime.pad(c.month, 2) + CivilTime.pad(c.day, 2) + "T"
            + CivilTime.pad(c.hour, 2)
            + CivilTime.pad(c.minute, 2) + CivilTime.pad(c.second, 2) + "Z"
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let scalars = Substring(self)
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? first
        return scalars[first...last]
    }
}
