import RillKinesis
import Testing

@Suite struct PolicyEvaluationTests {
    let streamA = "arn:aws:kinesis:us-east-1:111111111111:stream/orders"
    let streamB = "arn:aws:kinesis:us-east-1:111111111111:stream/payments"

    func policy(_ json: String, resource: Bool = false) throws -> PolicyDocument {
        try PolicyDocument(json: json, isResourcePolicy: resource)
    }

    func request(
        _ principal: IAMIdentity,
        _ action: String,
        _ resource: String,
        context: [String: String] = [:]
    ) -> AccessRequest {
        AccessRequest(
            principal: principal,
            action: action,
            resource: resource,
            resourceAccount: "111111111111",
            context: context
        )
    }

    @Test("a producer key may put and describe but not read; a consumer key the reverse")
    func leastPrivilege() throws {
        let producer = IAMIdentity.user(
            "producer",
            account: "111111111111",
            policies: [
                try policy(
                    #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:PutRecord*","kinesis:Describe*"],"Resource":"*"}]}"#
                )
            ]
        )
        #expect(
            PolicyEvaluation.decide(request(producer, "kinesis:PutRecords", streamA), resourcePolicy: nil) == .allow
        )
        #expect(PolicyEvaluation.decide(request(producer, "kinesis:putrecord", streamA), resourcePolicy: nil) == .allow)
        let read = request(producer, "kinesis:GetShardIterator", streamA)
        #expect(PolicyEvaluation.decide(read, resourcePolicy: nil) == .deny(.noIdentityPolicyAllows))
        #expect(
            PolicyEvaluation.message(read, .noIdentityPolicyAllows)
                == "User: arn:aws:iam::111111111111:user/producer is not authorized to perform: kinesis:GetShardIterator on resource: "
                + "\(streamA) because no identity-based policy allows the kinesis:GetShardIterator action"
        )
        let consumer = IAMIdentity.user(
            "consumer",
            account: "111111111111",
            policies: [
                try policy(
                    #"{"Statement":{"Effect":"Allow","NotAction":"kinesis:Put*","Resource":"arn:aws:kinesis:*:*:stream/*"}}"#
                )
            ]
        )
        #expect(
            PolicyEvaluation.decide(request(consumer, "kinesis:GetRecords", streamA), resourcePolicy: nil) == .allow
        )
        #expect(PolicyEvaluation.decide(request(consumer, "kinesis:PutRecord", streamA), resourcePolicy: nil) != .allow)
    }

    @Test("an explicit deny beats any allow, in either policy")
    func explicitDeny() throws {
        let user = IAMIdentity.user(
            "u",
            account: "111111111111",
            policies: [
                try policy(
                    #"{"Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"},{"Effect":"Deny","Action":"kinesis:DeleteStream","Resource":"*"}]}"#
                )
            ]
        )
        #expect(
            PolicyEvaluation.decide(request(user, "kinesis:DeleteStream", streamA), resourcePolicy: nil)
                == .deny(.explicitDenyInIdentityPolicy)
        )
        let everything = IAMIdentity.user("admin", account: "111111111111", policies: nil)
        let fence = try policy(
            #"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"kinesis:PutRecord","Resource":"*"}]}"#,
            resource: true
        )
        #expect(
            PolicyEvaluation.decide(request(everything, "kinesis:PutRecord", streamA), resourcePolicy: fence)
                == .deny(.explicitDenyInResourcePolicy)
        )
        #expect(
            PolicyEvaluation.decide(request(everything, "kinesis:GetRecords", streamA), resourcePolicy: fence) == .allow
        )
    }

    @Test("another account's key needs the stream's resource policy, and gets only the stream it names")
    func crossAccount() throws {
        let other = IAMIdentity.user("partner", account: "222222222222", policies: nil)
        let grant = try policy(
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"arn:aws:kinesis:us-east-1:111111111111:stream/orders"}]}"#,
            resource: true
        )
        #expect(PolicyEvaluation.decide(request(other, "kinesis:GetRecords", streamA), resourcePolicy: grant) == .allow)
        #expect(
            PolicyEvaluation.decide(request(other, "kinesis:GetRecords", streamB), resourcePolicy: grant)
                == .deny(.noResourcePolicyAllows)
        )
        #expect(
            PolicyEvaluation.decide(request(other, "kinesis:GetRecords", streamA), resourcePolicy: nil)
                == .deny(.noResourcePolicyAllows)
        )
        // Across accounts the caller's own policies must allow too.
        let limited = IAMIdentity.user("partner", account: "222222222222", policies: [])
        #expect(
            PolicyEvaluation.decide(request(limited, "kinesis:GetRecords", streamA), resourcePolicy: grant)
                == .deny(.noIdentityPolicyAllows)
        )
        // Within the account a resource policy alone suffices.
        let none = IAMIdentity.user("nobody", account: "111111111111", policies: [])
        let sameAccount = try policy(
            #"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"kinesis:*","Resource":"*"}]}"#,
            resource: true
        )
        #expect(
            PolicyEvaluation.decide(request(none, "kinesis:GetRecords", streamA), resourcePolicy: sameAccount) == .allow
        )
    }

    @Test("conditions: aws:SecureTransport, StringLike, IfExists, Null, and negated operators on missing keys")
    func conditions() throws {
        let user = IAMIdentity.user(
            "u",
            account: "111111111111",
            policies: [
                try policy(
                    #"{"Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/u"}}}]}"#
                )
            ]
        )
        let secure = ["aws:SecureTransport": "true", "aws:PrincipalArn": user.arn]
        #expect(
            PolicyEvaluation.decide(request(user, "kinesis:PutRecord", streamA, context: secure), resourcePolicy: nil)
                == .allow
        )
        let plain = ["aws:SecureTransport": "false", "aws:PrincipalArn": user.arn]
        #expect(
            PolicyEvaluation.decide(request(user, "kinesis:PutRecord", streamA, context: plain), resourcePolicy: nil)
                != .allow
        )
        #expect(PolicyEvaluation.decide(request(user, "kinesis:PutRecord", streamA), resourcePolicy: nil) != .allow)
        let lenient = IAMIdentity.user(
            "u",
            account: "111111111111",
            policies: [
                try policy(
                    #"{"Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"},"StringNotEquals":{"aws:username":"mallory"},"Null":{"aws:TokenIssueTime":"true"}}}]}"#
                )
            ]
        )
        #expect(PolicyEvaluation.decide(request(lenient, "kinesis:PutRecord", streamA), resourcePolicy: nil) == .allow)
        #expect(
            PolicyEvaluation.decide(
                request(lenient, "kinesis:PutRecord", streamA, context: ["aws:SourceVpc": "vpc-2"]),
                resourcePolicy: nil
            ) != .allow
        )
        #expect(
            PolicyEvaluation.decide(
                request(lenient, "kinesis:PutRecord", streamA, context: ["AWS:Username": "mallory"]),
                resourcePolicy: nil
            ) != .allow
        )
    }

    @Test("policies IAM would refuse are refused, not half-read")
    func invalidPolicies() {
        let bad = [
            "not json", "[]", #"{"Statement":[]}"#,
            #"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            #"{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}"#,
            #"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            #"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"x","Resource":"*"}}"#,
            #"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020"}}}}"#,
            #"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}"#,
        ]
        for text in bad {
            #expect(throws: PolicyDocument.Invalid.self, "\(text)") {
                try PolicyDocument(json: text, isResourcePolicy: false)
            }
        }
        #expect(throws: PolicyDocument.Invalid.self) {
            try PolicyDocument(
                json: #"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
                isResourcePolicy: true
            )
        }
    }

    @Test("credentials: AKID:SECRET lines allow everything; JSON users carry accounts and policies")
    func credentialStore() throws {
        let lines = try CredentialStore(parsing: "# keys\nAKID1:one\nAKID2:two")
        #expect(lines.principal(accessKeyID: "AKID1", defaultAccount: "000000000000")?.policies == nil)
        #expect(
            lines.principal(accessKeyID: "AKID1", defaultAccount: "000000000000")?.arn
                == "arn:aws:iam::000000000000:user/AKID1"
        )
        #expect(lines.verifier.secrets == ["AKID1": "one", "AKID2": "two"])
        let json = try CredentialStore(
            parsing: #"""
                {"Users": [{"Name": "producer", "AccessKeyId": "AKIDP", "SecretAccessKey": "s", "Account": "111111111111",
                  "Policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "*"}]}]},
                 {"AccessKeyId": "AKIDN", "SecretAccessKey": "t"}]}
                """#
        )
        let producer = try #require(json.principal(accessKeyID: "AKIDP", defaultAccount: "000000000000"))
        #expect(producer.arn == "arn:aws:iam::111111111111:user/producer")
        #expect(producer.policies?.count == 1)
        #expect(json.principal(accessKeyID: "AKIDN", defaultAccount: "000000000000")?.policies == [])
        #expect(json.principal(accessKeyID: "nope", defaultAccount: "000000000000") == nil)
        #expect(throws: CredentialStore.Invalid.self) { try CredentialStore(parsing: #"{"Users": []}"#) }
        #expect(throws: CredentialStore.Invalid.self) {
            try CredentialStore(parsing: #"{"Users": [{"AccessKeyId": "A", "SecretAccessKey": "s", "Account": "12"}]}"#)
        }
        #expect(throws: CredentialStore.Invalid.self) {
            try CredentialStore(
                parsing: #"{"Users": [{"AccessKeyId": "A", "SecretAccessKey": "s", "Policies": [{"Statement": 1}]}]}"#
            )
        }
    }

    @Test("wildcards: * and ? with backtracking, no blow-up on many stars")
    func wildcards() throws {
        let user = IAMIdentity.user(
            "u",
            account: "111111111111",
            policies: [
                try policy(
                    #"{"Statement":{"Effect":"Allow","Action":"kinesis:Get?ecords","Resource":"arn:aws:kinesis:*:*:stream/ord*s"}}"#
                )
            ]
        )
        #expect(PolicyEvaluation.decide(request(user, "kinesis:GetRecords", streamA), resourcePolicy: nil) == .allow)
        #expect(PolicyEvaluation.decide(request(user, "kinesis:GetRecords", streamB), resourcePolicy: nil) != .allow)
        let stars = String(repeating: "*a", count: 200) + "b"
        let greedy = IAMIdentity.user(
            "u",
            account: "111111111111",
            policies: [try policy(#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"\#(stars)"}}"#)]
        )
        #expect(
            PolicyEvaluation.decide(
                request(greedy, "kinesis:GetRecords", String(repeating: "a", count: 5_000)),
                resourcePolicy: nil
            ) != .allow
        )
    }

    @Test("NotAction, NotResource and NotPrincipal match everything but what they name; actions ignore case")
    func negatedLists() throws {
        let user = IAMIdentity.user(
            "ops",
            account: "111111111111",
            policies: [
                try policy(
                    #"{"Statement":[{"Effect":"Allow","NotAction":"kinesis:Delete*","NotResource":"\#(streamB)"}]}"#
                )
            ]
        )
        #expect(PolicyEvaluation.decide(request(user, "KINESIS:putrecord", streamA), resourcePolicy: nil) == .allow)
        #expect(
            PolicyEvaluation.decide(request(user, "kinesis:DeleteStream", streamA), resourcePolicy: nil)
                == .deny(.noIdentityPolicyAllows)
        )
        // Resources match case-sensitively, as ARNs do.
        #expect(
            PolicyEvaluation.decide(request(user, "kinesis:PutRecord", streamB), resourcePolicy: nil)
                == .deny(.noIdentityPolicyAllows)
        )
        let outsider = IAMIdentity.user("guest", account: "222222222222", policies: nil)
        let everyoneBut = try policy(
            #"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"kinesis:*","Resource":"*"}]}"#,
            resource: true
        )
        #expect(
            PolicyEvaluation.decide(request(outsider, "kinesis:GetRecords", streamA), resourcePolicy: everyoneBut)
                == .deny(.explicitDenyInResourcePolicy)
        )
        #expect(
            PolicyEvaluation.decide(request(user, "kinesis:PutRecord", streamA), resourcePolicy: everyoneBut) == .allow
        )
    }
}
