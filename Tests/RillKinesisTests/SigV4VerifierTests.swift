import RillKinesis
import Testing

@Suite struct SigV4VerifierTests {
    let verifier = SigV4Verifier(secrets: ["AKID": "secret"])

    func request(_ headers: [(String, String)]) -> SigV4Verifier.Request {
        SigV4Verifier.Request(
            method: "POST",
            path: "/",
            query: "",
            headers: headers.map { (name: $0.0, value: $0.1) },
            body: []
        )
    }

    @Test("credentials parse from lines or commas, skipping comments; junk is refused")
    func parsing() {
        #expect(
            SigV4Verifier(parsing: "# keys\nA:one\n\nB:two:with:colons")?.secrets == [
                "A": "one", "B": "two:with:colons",
            ]
        )
        #expect(SigV4Verifier(parsing: "A:one,B:two")?.secrets.count == 2)
        #expect(SigV4Verifier(parsing: "no-colon") == nil)
        #expect(SigV4Verifier(parsing: "   ") == nil)
    }

    @Test("missing, incomplete, stale and unknown-key signatures get AWS's error codes")
    func refusals() {
        let now: Int64 = 1_700_000_000_000  // 2023-11-14T22:13:20Z
        #expect(throws: KinesisError(.missingAuthenticationToken, "Missing Authentication Token")) {
            _ = try verifier.verify(request([]), nowMillis: now)
        }
        let scope =
            "Credential=AKID/20231114/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
        do {
            _ = try verifier.verify(request([("Authorization", "AWS4-HMAC-SHA256 Credential=AKID")]), nowMillis: now)
            Issue.record("incomplete signature accepted")
        } catch {
            #expect(error.code == .incompleteSignature)
        }
        do {
            _ = try verifier.verify(
                request([("Authorization", "AWS4-HMAC-SHA256 " + scope), ("X-Amz-Date", "20231114T000000Z")]),
                nowMillis: now
            )
            Issue.record("stale signature accepted")
        } catch {
            #expect(error.code == .invalidSignature)
        }
        do {
            let unknown =
                "Credential=OTHER/20231114/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
            _ = try verifier.verify(
                request([("Authorization", "AWS4-HMAC-SHA256 " + unknown), ("X-Amz-Date", "20231114T221320Z")]),
                nowMillis: now
            )
            Issue.record("unknown key accepted")
        } catch {
            #expect(error.code == .unrecognizedClient)
        }
        do {
            _ = try verifier.verify(
                request([
                    ("Authorization", "AWS4-HMAC-SHA256 " + scope), ("X-Amz-Date", "20231114T221320Z"), ("Host", "x"),
                ]),
                nowMillis: now
            )
            Issue.record("bad signature accepted")
        } catch {
            #expect(error.code == .invalidSignature)
        }
    }
}
