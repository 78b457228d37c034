import RillClient
import RillKinesis
import Testing

@testable import RillCLI

/// `rill archive --to s3://…`: the destination's parsing, the S3 request path SigV4 signs, and S3's error replies.
@Suite struct ArchiveS3Tests {
    @Test(
        "--to is a folder or s3://BUCKET[/PATH], the path ending in /",
        arguments: [
            ("/data/orders", ArchiveTarget.folder("/data/orders")),
            ("archive", .folder("archive")),
            ("s3://my-bucket", .bucket("my-bucket", keyPrefix: "")),
            ("s3://my-bucket/", .bucket("my-bucket", keyPrefix: "")),
            ("s3://my.bucket-1/raw/orders", .bucket("my.bucket-1", keyPrefix: "raw/orders/")),
            ("s3://my-bucket/raw/", .bucket("my-bucket", keyPrefix: "raw/")),
        ]
    )
    func targets(text: String, expected: ArchiveTarget) {
        #expect(ArchiveTarget(text) == expected)
    }

    @Test(
        "a bucket name S3 refuses, another scheme or an empty --to is refused",
        arguments: [
            "", "s3://", "s3://ab", "s3://My-Bucket", "s3://-bucket", "s3://bucket//x", "gs://bucket", "s3://b_c",
        ]
    )
    func badTargets(text: String) {
        #expect(ArchiveTarget(text) == nil)
    }

    @Test("the request path is /BUCKET/KEY with each segment URI-encoded once, slashes kept")
    func requestPath() {
        #expect(S3Client.path(bucket: "b", key: "raw/2026/12/06/17/o-1.gz") == "/b/raw/2026/12/06/17/o-1.gz")
        #expect(S3Client.path(bucket: "b", key: "year=2026/a b+c~d") == "/b/year%3D2026/a%20b%2Bc~d")
    }

    @Test(
        "5xx, throttles and timeouts are retried; other 4xx are not",
        arguments: [
            (500, true), (503, true), (429, true), (408, true), (400, false), (403, false), (404, false),
        ]
    )
    func retryable(status: Int, expected: Bool) {
        #expect(S3Client.isRetryable(status: status) == expected)
    }

    @Test("an S3 error body gives its code and message; an empty one the status")
    func errorReply() {
        let body = Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>\
            <BucketName>b</BucketName></Error>
            """.utf8
        )
        let parsed = S3ErrorReply.parse(body, status: 404)
        #expect(parsed.code == "NoSuchBucket" && parsed.message == "The specified bucket does not exist")
        let empty = S3ErrorReply.parse([], status: 403)
        #expect(empty.code == "HTTP 403" && empty.message == "")
        let escaped = S3ErrorReply.parse(
            Array("<Error><Code>A</Code><Message>x &lt; y &amp; z</Message>".utf8),
            status: 400
        )
        #expect(escaped.message == "x < y & z")
    }
}

/// S3's own SigV4 example (S3 API reference, "Signature Calculations for the Authorization Header: Transferring
/// Payload in a Single Chunk", GET Object): the `s3` scope and `x-amz-content-sha256` give AWS's signature.
@Suite struct S3SigningTests {
    @Test("the S3 GET Object example signs to AWS's published signature")
    func awsExample() {
        let signer = SigV4Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1"
        )
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        let signed = signer.sign(
            service: "s3",
            method: "GET",
            path: "/test.txt",
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"), ("x-amz-content-sha256", empty),
            ],
            payloadHash: empty,
            nowMillis: 1_369_353_600_000
        )
        #expect(signed.amzDate == "20130524T000000Z")
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }
}
