import RillModel

/// Verifies AWS Signature Version 4 on requests (KINESIS-SEMANTICS §1.5), when the node was given
/// credentials. Pure: the caller passes the request's parts and the current time.
public struct SigV4Verifier: Sendable {
    /// Secret keys by access key id.
    public let secrets: [String: String]
    /// How far X-Amz-Date may be from now.
    public static let allowedSkewMillis: Int64 = 15 * 60 * 1000

    public init(secrets: [String: String]) { self.secrets = secrets }

    /// Parses `AKID:SECRET` pairs separated by commas or newlines; blank lines and `#` comments are skipped.
    public init?(parsing text: String) {
        var secrets: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "," }) {
            let trimmed = line.trimmingSpaces
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            guard let colon = trimmed.firstIndex(of: ":") else { return nil }
            let key = String(trimmed[..<colon]), secret = String(trimmed[trimmed.index(after: colon)...])
            guard !key.isEmpty, !secret.isEmpty else { return nil }
            secrets[key] = secret
        }
        guard !secrets.isEmpty else { return nil }
        self.secrets = secrets
    }

    /// The request as signed: method, path, raw query, headers in arrival order, and the body.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(method: String, path: String, query: String, headers: [(name: String, value: String)], body: [UInt8]) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
    }

    /// Checks the signature; returns the region of the credential scope.
    public func verify(_ request: Request, nowMillis: Int64) throws(KinesisError) -> String {
        guard let authorization = request.header("authorization") else {
            throw KinesisError(.missingAuthenticationToken, "Missing Authentication Token")
        }
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
            throw KinesisError(.incompleteSignature, "Unsupported authorization scheme; use AWS4-HMAC-SHA256.")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let item = part.trimmingSpaces
            guard let equals = item.firstIndex(of: "=") else { continue }
            fields[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw KinesisError(
                .incompleteSignature,
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.")
        }
        guard let amzDate = request.header("x-amz-date") else {
            throw KinesisError(.incompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[3] == "kinesis", scope[4] == "aws4_request", amzDate.hasPrefix(scope[1]) else {
            throw KinesisError(.incompleteSignature, "Credential should be scoped to a valid region, service 'kinesis' and 'aws4_request'.")
        }
        guard let signedMillis = Self.parseAmzDate(amzDate) else {
            throw KinesisError(.incompleteSignature, "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'.")
        }
        if abs(nowMillis - signedMillis) > Self.allowedSkewMillis {
            throw KinesisError(.invalidSignature, "Signature expired: \(amzDate) is now earlier or later than the allowed 15 minutes.")
        }
        guard let secret = secrets[scope[0]] else {
            throw KinesisError(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        let names = signedHeaders.split(separator: ";").map { $0.lowercased() }
        var canonicalHeaders = ""
        for name in names {
            let values = request.headers.filter { $0.name.lowercased() == name }.map { Self.canonicalValue($0.value) }
            canonicalHeaders += name + ":" + values.joined(separator: ",") + "\n"
        }
        let payloadHash = request.header("x-amz-content-sha256") ?? Self.hex(SHA256.hash(request.body))
        let canonicalRequest = [
            request.method, request.path.isEmpty ? "/" : request.path, Self.canonicalQuery(request.query), canonicalHeaders,
            names.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope[1...4].joined(separator: "/"), Self.hex(SHA256.hash(Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SHA256.hmac(key: Array(("AWS4" + secret).utf8), message: Array(scope[1].utf8))
        for part in [scope[2], scope[3], scope[4]] { key = SHA256.hmac(key: key, message: Array(part.utf8)) }
        let expected = Self.hex(SHA256.hmac(key: key, message: Array(stringToSign.utf8)))
        guard Self.constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8)) else {
            throw KinesisError(
                .invalidSignature,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
                    + "Access Key and signing method. Consult the service documentation for details.")
        }
        return scope[2]
    }

    static func canonicalValue(_ value: String) -> String {
        value.trimmingSpaces.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// Query parameters sorted by name then value; SDKs send Kinesis calls without one.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { part -> (String, String) in
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(pieces[0]), pieces.count > 1 ? String(pieces[1]) : "")
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
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
            let minute = number(11..<13), let second = number(13..<15), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        // Days from civil (Howard Hinnant).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Int64(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000
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
