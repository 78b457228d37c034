import RillKinesis
import RillModel
import Testing

/// Signatures made by botocore 1.x (`SigV4Auth` and `S3SigV4QueryAuth`, key AKID/secret, 2026-12-06T07:44:35Z),
/// so the verifier is checked against a real SDK's signer, not only against our own.
@Suite struct SigV4SigningTests {
    let verifier = SigV4Verifier(secrets: ["AKID": "secret"])
    let now: Int64 = 1_796_543_075_000
    let body = Array(#"{"StreamName":"s1","Data":"aGk=","PartitionKey":"p"}"#.utf8)
    let target = (name: "X-Amz-Target", value: "Kinesis_20131202.PutRecord")
    let contentType = (name: "Content-Type", value: "application/x-amz-json-1.1")
    let host = (name: "Host", value: "127.0.0.1:4567")

    func headerSigned(_ extra: [(name: String, value: String)] = [], body: [UInt8]? = nil) -> SigV4Verifier.Request {
        let authorization =
            "AWS4-HMAC-SHA256 Credential=AKID/20261206/eu-west-1/kinesis/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            + "Signature=1a66fbe1d4a7247784f83ddeec20f2e7a7eddd5fa9f3a9e086ef072d263e49ca"
        return SigV4Verifier.Request(
            method: "POST",
            path: "/",
            query: "",
            headers: [
                target, contentType, host, (name: "X-Amz-Date", value: "20261206T074435Z"),
                (name: "Authorization", value: authorization),
            ]
                + extra,
            body: body ?? self.body
        )
    }

    let presignedQuery =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261206%2Feu-west-1%2Fkinesis%2Faws4_request"
        + "&X-Amz-Date=20261206T074435Z&X-Amz-Expires=300&X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-target"
        + "&X-Amz-Signature=ed4989661abcb78046a7322fcc9a9fcf02b9e0c04de6ad75ff8357ec369fc2fb"

    func presigned(_ query: String? = nil) -> SigV4Verifier.Request {
        SigV4Verifier.Request(
            method: "POST",
            path: "/",
            query: query ?? presignedQuery,
            headers: [target, contentType, host],
            body: body
        )
    }

    @Test("botocore's header signature verifies and names its region; a changed body does not")
    func headerSignature() throws {
        #expect(try verifier.verify(headerSigned(), nowMillis: now) == "eu-west-1")
        #expect(throws: KinesisError.self) { try verifier.verify(headerSigned(body: body + [0x20]), nowMillis: now) }
    }

    @Test("x-amz-content-sha256 must be the body's hash; UNSIGNED-PAYLOAD is signed literally")
    func contentHash() throws {
        // botocore signed the body's hash; declaring that same hash changes nothing.
        let bodyHash = SigV4.hex(SHA256.hash(body))
        #expect(
            try verifier.verify(headerSigned([(name: "x-amz-content-sha256", value: bodyHash)]), nowMillis: now)
                == "eu-west-1"
        )
        // Any other digest is refused before the signature is even computed: the header proves nothing by itself.
        let wrong = "e5c3ecce4e0f7d6d8c0b0f4ab1b0c8a2b91f1c7e2c1d8f1a27a0f6bd51c6c0b1"
        do {
            _ = try verifier.verify(headerSigned([(name: "x-amz-content-sha256", value: wrong)]), nowMillis: now)
            Issue.record("a hash that is not the body's was accepted")
        } catch {
            #expect(error.code == .invalidSignature)
            #expect(error.message?.contains("x-amz-content-sha256") == true)
        }
        do {
            _ = try verifier.verify(headerSigned([(name: "x-amz-content-sha256", value: "not-a-hash")]), nowMillis: now)
            Issue.record("a malformed hash was accepted")
        } catch {
            #expect(error.code == .incompleteSignature)
        }
        // UNSIGNED-PAYLOAD is signed as that literal, so it cannot stand in for botocore's signed body hash.
        #expect(throws: KinesisError.self) {
            try verifier.verify(
                headerSigned([(name: "x-amz-content-sha256", value: "UNSIGNED-PAYLOAD")]),
                nowMillis: now
            )
        }
    }

    @Test("a presigned URL verifies within its lifetime and not after; without its signature it is incomplete")
    func presignedURL() throws {
        #expect(try verifier.verify(presigned(), nowMillis: now + 299_000) == "eu-west-1")
        do {
            _ = try verifier.verify(presigned(), nowMillis: now + 301_000)
            Issue.record("an expired presigned URL was accepted")
        } catch {
            #expect(error.code == .invalidSignature)
        }
        do {
            _ = try verifier.verify(
                presigned(presignedQuery.replacingOccurrences("&X-Amz-Expires=300", "")),
                nowMillis: now
            )
            Issue.record("a presigned URL without X-Amz-Expires was accepted")
        } catch {
            #expect(error.code == .incompleteSignature)
        }
        do {
            _ = try verifier.verify(
                presigned(presignedQuery.replacingOccurrences("X-Amz-Expires=300", "X-Amz-Expires=400")),
                nowMillis: now
            )
            Issue.record("a presigned URL with a lengthened lifetime was accepted")
        } catch {
            #expect(error.code == .invalidSignature)
        }
    }

    @Test("what SigV4Signer signs, the verifier accepts, for any body; a different secret is refused")
    func signerRoundTrip() throws {
        let signer = try #require(SigV4Signer(credentials: "AKID:secret", region: "ap-south-1"))
        for body in [[], Array("{}".utf8), Array(repeating: UInt8(7), count: 70_000)] {
            let hash = SigV4.hex(SHA256.hash(body))
            let headers = [target, contentType, host]
            let signed = signer.sign(headers: headers, payloadHash: hash, nowMillis: now)
            let request = SigV4Verifier.Request(
                method: "POST",
                path: "/",
                query: "",
                headers: headers + [
                    (name: "X-Amz-Date", value: signed.amzDate), (name: "Authorization", value: signed.authorization),
                ],
                body: body
            )
            #expect(try verifier.verify(request, nowMillis: now) == "ap-south-1")
            #expect(throws: KinesisError.self) {
                try SigV4Verifier(secrets: ["AKID": "other"]).verify(request, nowMillis: now)
            }
        }
        #expect(SigV4.amzDate(millis: now) == "20261206T074435Z")
        #expect(SigV4.amzDate(millis: 951_782_400_000) == "20000229T000000Z")
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
