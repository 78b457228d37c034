/// Signs Kinesis requests with AWS Signature Version 4 in the `Authorization` header, as the SDKs do: what
/// `rill bench` uses to load a cluster that checks signatures. Pure: the caller passes the time.
public struct SigV4Signer: Sendable {
    public let accessKeyID: String
    public let secret: String
    public let region: String

    public init(accessKeyID: String, secret: String, region: String) {
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.region = region
    }

    /// Parses `AKID:SECRET`.
    public init?(credentials: String, region: String) {
        guard let colon = credentials.firstIndex(of: ":") else { return nil }
        let key = String(credentials[..<colon])
        let secret = String(credentials[credentials.index(after: colon)...])
        guard !key.isEmpty, !secret.isEmpty else { return nil }
        self.init(accessKeyID: key, secret: secret, region: region)
    }

    /// The signer a client tool uses: `credentials` (`AKID:SECRET`, from `--credentials`) when given, else
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` from `environment` when both are set, else none.
    public static func resolve(credentials: String?, region: String, environment: [String: String]) -> SigV4Signer? {
        if let credentials { return SigV4Signer(credentials: credentials, region: region) }
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
            !key.isEmpty,
            !secret.isEmpty
        else { return nil }
        return SigV4Signer(accessKeyID: key, secret: secret, region: region)
    }

    /// The `X-Amz-Date` and `Authorization` values for a request whose every header in `headers` is signed.
    /// `payloadHash` is the body's hex SHA-256 (or `SigV4.unsignedPayload`); `service` is the scope's (`s3` for
    /// `rill archive`'s PutObject). `path` is signed as given: S3 wants it URI-encoded once, as it is sent.
    public func sign(
        service: String = "kinesis",
        method: String = "POST",
        path: String = "/",
        query: String = "",
        headers: [(name: String, value: String)],
        payloadHash: String,
        nowMillis: Int64
    ) -> (amzDate: String, authorization: String) {
        let amzDate = SigV4.amzDate(millis: nowMillis)
        let scope = SigV4.Scope(
            accessKeyID: accessKeyID,
            date: String(amzDate.prefix(8)),
            region: region,
            service: service
        )
        var all = headers
        all.append((name: "x-amz-date", value: amzDate))
        let names = Array(Set(all.map { $0.name.lowercased() })).sorted()
        let canonical = SigV4.canonicalRequest(
            method: method,
            path: path,
            canonicalQuery: SigV4.canonicalQuery(query),
            headers: all,
            signedHeaders: names,
            payloadHash: payloadHash
        )
        let signature = SigV4.signature(secret: secret, scope: scope, amzDate: amzDate, canonicalRequest: canonical)
        return (
            amzDate,
            "\(SigV4.algorithm) Credential=\(scope.credential), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        )
    }
}
