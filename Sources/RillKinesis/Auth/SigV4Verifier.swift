import RillModel

/// Verifies AWS Signature Version 4 on requests (KINESIS-SEMANTICS §1.5), when the node was given
/// credentials: in the `Authorization` header, or in the query string of a presigned URL. Pure: the caller
/// passes the request's parts and the current time.
public struct SigV4Verifier: Sendable {
    /// Secret keys by access key id.
    public let secrets: [String: String]
    /// How far X-Amz-Date may be from now.
    public static let allowedSkewMillis: Int64 = 15 * 60 * 1000
    /// The longest a presigned URL may be valid, as on AWS: seven days.
    public static let maxPresignedSeconds: Int64 = 604_800

    public init(secrets: [String: String]) { self.secrets = secrets }

    /// Parses `AKID:SECRET` pairs separated by commas or newlines; blank lines and `#` comments are skipped.
    public init?(parsing text: String) {
        var secrets: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "," }) {
            let trimmed = line.trimmingSpaces
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            guard let colon = trimmed.firstIndex(of: ":") else { return nil }
            let key = String(trimmed[..<colon])
            let secret = String(trimmed[trimmed.index(after: colon)...])
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
        /// The service the credential scope must name: `kinesis`, or `monitoring` for CloudWatch calls.
        public var service: String

        public init(
            method: String,
            path: String,
            query: String,
            headers: [(name: String, value: String)],
            body: [UInt8],
            service: String = "kinesis"
        ) {
            self.service = service
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

    /// What a request says it was signed with, from its header or its query string.
    struct Claim {
        var scope: SigV4.Scope
        var signedHeaders: [String]
        var signature: String
        var amzDate: String
        /// A presigned URL's `X-Amz-Expires`; nil for a signed header.
        var expiresSeconds: Int64?
        var canonicalQuery: String

        init(
            credential: String,
            signedHeaders: String,
            signature: String,
            amzDate: String,
            expiresSeconds: Int64?,
            canonicalQuery: String
        ) throws(KinesisError) {
            guard let scope = SigV4.Scope(credential: credential) else {
                throw KinesisError(
                    .incompleteSignature,
                    "Credential should be scoped to a valid region, service 'kinesis' and 'aws4_request'."
                )
            }
            self.scope = scope
            self.signedHeaders = signedHeaders.split(separator: ";").map { $0.lowercased() }
            self.signature = signature
            self.amzDate = amzDate
            self.expiresSeconds = expiresSeconds
            self.canonicalQuery = canonicalQuery
        }
    }

    /// Checks the signature; returns the region of the credential scope.
    public func verify(_ request: Request, nowMillis: Int64) throws(KinesisError) -> String {
        try authenticate(request, nowMillis: nowMillis).region
    }

    /// What a valid signature proves: the key that made it, and the region it was scoped to.
    public struct Verified: Sendable, Equatable {
        public var region: String
        public var accessKeyID: String
    }

    /// Checks the signature; returns the region of the credential scope and the access key that signed.
    public func authenticate(_ request: Request, nowMillis: Int64) throws(KinesisError) -> Verified {
        let claim: Claim
        if let authorization = request.header("authorization") {
            claim = try Self.headerClaim(authorization, request)
        } else if let presigned = try Self.queryClaim(request) {
            claim = presigned
        } else {
            throw KinesisError(.missingAuthenticationToken, "Missing Authentication Token")
        }
        guard claim.scope.service == request.service, claim.amzDate.hasPrefix(claim.scope.date) else {
            throw KinesisError(
                .incompleteSignature,
                "Credential should be scoped to a valid region, service '\(request.service)' and 'aws4_request'."
            )
        }
        guard let signedMillis = SigV4.parseAmzDate(claim.amzDate) else {
            throw KinesisError(
                .incompleteSignature,
                "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'."
            )
        }
        if let expires = claim.expiresSeconds {
            // A presigned URL is good from its date (give or take the clock skew) until its expiry.
            if signedMillis - nowMillis > Self.allowedSkewMillis || nowMillis > signedMillis + expires * 1000 {
                throw KinesisError(
                    .invalidSignature,
                    "Signature expired: \(claim.amzDate) plus X-Amz-Expires \(expires) seconds is past."
                )
            }
        } else if abs(nowMillis - signedMillis) > Self.allowedSkewMillis {
            throw KinesisError(
                .invalidSignature,
                "Signature expired: \(claim.amzDate) is now earlier or later than the allowed 15 minutes."
            )
        }
        guard let secret = secrets[claim.scope.accessKeyID] else {
            throw KinesisError(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        for payloadHash in try Self.payloadHashes(request, presigned: claim.expiresSeconds != nil) {
            let canonical = SigV4.canonicalRequest(
                method: request.method,
                path: request.path,
                canonicalQuery: claim.canonicalQuery,
                headers: request.headers,
                signedHeaders: claim.signedHeaders,
                payloadHash: payloadHash
            )
            let expected = SigV4.signature(
                secret: secret,
                scope: claim.scope,
                amzDate: claim.amzDate,
                canonicalRequest: canonical
            )
            if SigV4.constantTimeEqual(Array(expected.utf8), Array(claim.signature.lowercased().utf8)) {
                return Verified(region: claim.scope.region, accessKeyID: claim.scope.accessKeyID)
            }
        }
        throw KinesisError(
            .invalidSignature,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
                + "Access Key and signing method. Consult the service documentation for details."
        )
    }

    static func headerClaim(_ authorization: String, _ request: Request) throws(KinesisError) -> Claim {
        guard authorization.hasPrefix(SigV4.algorithm + " ") else {
            throw KinesisError(.incompleteSignature, "Unsupported authorization scheme; use AWS4-HMAC-SHA256.")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst(SigV4.algorithm.count + 1).split(separator: ",") {
            let item = part.trimmingSpaces
            guard let equals = item.firstIndex(of: "=") else { continue }
            fields[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw KinesisError(
                .incompleteSignature,
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."
            )
        }
        guard let amzDate = request.header("x-amz-date") else {
            throw KinesisError(
                .incompleteSignature,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
            )
        }
        return try Claim(
            credential: credential,
            signedHeaders: signedHeaders,
            signature: signature,
            amzDate: amzDate,
            expiresSeconds: nil,
            canonicalQuery: SigV4.canonicalQuery(request.query)
        )
    }

    /// The claim of a presigned URL, or nil when the query carries no `X-Amz-Algorithm`.
    static func queryClaim(_ request: Request) throws(KinesisError) -> Claim? {
        let parameters = SigV4.queryParameters(request.query)
        guard let algorithm = parameters["X-Amz-Algorithm"] else { return nil }
        guard algorithm == SigV4.algorithm else {
            throw KinesisError(.incompleteSignature, "Unsupported X-Amz-Algorithm; use AWS4-HMAC-SHA256.")
        }
        guard let credential = parameters["X-Amz-Credential"], let signedHeaders = parameters["X-Amz-SignedHeaders"],
            let signature = parameters["X-Amz-Signature"], let amzDate = parameters["X-Amz-Date"],
            let expiresText = parameters["X-Amz-Expires"]
        else {
            throw KinesisError(
                .incompleteSignature,
                "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', "
                    + "'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Expires'. Re-examine the query-string parameters."
            )
        }
        guard let expires = Int64(expiresText), expires > 0, expires <= maxPresignedSeconds else {
            throw KinesisError(.incompleteSignature, "X-Amz-Expires must be a number of seconds from 1 to 604800.")
        }
        return try Claim(
            credential: credential,
            signedHeaders: signedHeaders,
            signature: signature,
            amzDate: amzDate,
            expiresSeconds: expires,
            canonicalQuery: SigV4.canonicalQuery(request.query, excluding: "X-Amz-Signature")
        )
    }

    /// The payload hashes a valid signature may have used. `x-amz-content-sha256`, when sent, is signed as
    /// given, and a hex digest in it must be the body's: the header alone proves nothing about the bytes that
    /// arrived. A presigned URL may have been made without the body, as AWS's presigners do (`UNSIGNED-PAYLOAD`).
    static func payloadHashes(_ request: Request, presigned: Bool) throws(KinesisError) -> [String] {
        let bodyHash = { SigV4.hex(SHA256.hash(request.body)) }
        guard let declared = request.header("x-amz-content-sha256")?.trimmingSpaces else {
            return presigned ? [bodyHash(), SigV4.unsignedPayload] : [bodyHash()]
        }
        if declared == SigV4.unsignedPayload { return [SigV4.unsignedPayload] }
        guard SigV4.isHexDigest(String(declared)) else {
            throw KinesisError(
                .incompleteSignature,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the request body."
            )
        }
        let actual = bodyHash()
        guard SigV4.constantTimeEqual(Array(declared.lowercased().utf8), Array(actual.utf8)) else {
            throw KinesisError(
                .invalidSignature,
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        }
        return [String(declared)]
    }
}
