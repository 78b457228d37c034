import NIOConcurrencyHelpers
import RillAPI
import RillKinesis
import RillModel
import RillNode
import Testing

/// The authorization step between the codec and the services (`Authorizer`).
@Suite struct AuthorizationTests {
    /// Refuses one action and records every question it is asked.
    final class DenyingAuthorizer: Authorizer {
        let denied: KinesisOperation
        let asked = NIOLockedValueBox<[AuthorizationRequest]>([])
        init(denying denied: KinesisOperation) { self.denied = denied }

        func authorize(_ request: AuthorizationRequest) throws(KinesisError) {
            asked.withLockedValue { $0.append(request) }
            guard request.action != denied else {
                throw KinesisError(.accessDenied, "\(request.action.rawValue) is not allowed")
            }
        }
    }

    @Test("a denying authorizer refuses the call before any service runs, and is asked about every call")
    func denyingAuthorizerDenies() async throws {
        let authorizer = DenyingAuthorizer(denying: .createStream)
        let harness = try await NodeHarness.start(authorizer: authorizer)
        let error = await harness.failure(.createStream, #"{"StreamName":"s","ShardCount":1}"#)
        #expect(error?.code == .accessDenied)
        #expect(error?.message == "CreateStream is not allowed")
        // Nothing was created: the refused call reached no service.
        let listed = try await harness.call(.listStreams, "{}")
        #expect(listed["StreamNames"]?.array?.isEmpty == true)
        let asked = authorizer.asked.withLockedValue { $0 }
        #expect(asked.map(\.action) == [.createStream, .listStreams])
        // CreateStream acts on the stream it names; ListStreams on the account.
        #expect(asked.allSatisfy { $0.principal == .anonymous && $0.region == "us-east-1" })
        #expect(
            asked.map(\.resource) == [
                .arn("arn:aws:kinesis:us-east-1:000000000000:stream/s", account: "000000000000", policy: nil),
                .account(account: "000000000000", region: "us-east-1"),
            ]
        )
        try await harness.cleanUp()
    }

    @Test("the allow-all authorizer lets every call through")
    func allowAllAllows() throws {
        try AllowAll().authorize(
            AuthorizationRequest(
                principal: .anonymous,
                action: .deleteStream,
                resource: .account(account: "a", region: "r"),
                region: "r"
            )
        )
    }
}

/// IAM policies end to end through a node: the credentials file's users, PutResourcePolicy, and the
/// AccessDeniedException a refused call gets.
@Suite struct PolicyAuthorizationTests {
    static let users = #"""
        {"Users": [
          {"Name": "admin", "AccessKeyId": "AKIDADMIN", "SecretAccessKey": "a",
           "Policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}]},
          {"Name": "producer", "AccessKeyId": "AKIDPRODUCER", "SecretAccessKey": "p",
           "Policies": [{"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:Describe*", "kinesis:List*"],
              "Resource": "*"}]}]},
          {"Name": "consumer", "AccessKeyId": "AKIDCONSUMER", "SecretAccessKey": "c",
           "Policies": [{"Statement": [
             {"Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:List*"], "Resource": "*"},
             {"Effect": "Deny", "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:*:*:stream/secret"}]}]},
          {"Name": "partner", "AccessKeyId": "AKIDPARTNER", "SecretAccessKey": "x", "Account": "222222222222",
           "Policies": [{"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}]},
          {"Name": "tls-only", "AccessKeyId": "AKIDTLS", "SecretAccessKey": "t",
           "Policies": [{"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}]}
        ]}
        """#

    static func harness() async throws -> NodeHarness {
        let keys = KeyRing(try CredentialStore(parsing: users), defaultAccount: "000000000000")
        return try await NodeHarness.start(authorizer: PolicyAuthorizer(keys: keys))
    }

    static let admin = Principal(accessKeyID: "AKIDADMIN")
    static let producer = Principal(accessKeyID: "AKIDPRODUCER")
    static let consumer = Principal(accessKeyID: "AKIDCONSUMER")
    static let partner = Principal(accessKeyID: "AKIDPARTNER")

    func create(_ harness: NodeHarness, _ name: String) async throws {
        try await harness.call(.createStream, #"{"StreamName":"\#(name)","ShardCount":1}"#, as: Self.admin)
    }

    @Test("a producer writes and describes but may not read; a consumer reads but may not write")
    func producerAndConsumer() async throws {
        let harness = try await Self.harness()
        try await create(harness, "orders")
        let put = #"{"StreamName":"orders","PartitionKey":"k","Data":"AA=="}"#
        try await harness.call(.putRecord, put, as: Self.producer)
        try await harness.call(.describeStreamSummary, #"{"StreamName":"orders"}"#, as: Self.producer)
        let iterator = #"{"StreamName":"orders","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#
        let refused = await harness.failure(.getShardIterator, iterator, as: Self.producer)
        #expect(refused?.code == .accessDenied)
        #expect(
            refused?.message
                == "User: arn:aws:iam::000000000000:user/producer is not authorized to perform: "
                + "kinesis:GetShardIterator on resource: arn:aws:kinesis:us-east-1:000000000000:stream/orders "
                + "because no identity-based policy allows the kinesis:GetShardIterator action"
        )
        let opened = try await harness.call(.getShardIterator, iterator, as: Self.consumer)
        let token = try #require(opened["ShardIterator"]?.string)
        let records = try await harness.call(.getRecords, #"{"ShardIterator":"\#(token)"}"#, as: Self.consumer)
        #expect(records["Records"]?.array?.count == 1)
        // GetRecords is authorized on the stream its iterator names.
        #expect(
            await harness.failure(.getRecords, #"{"ShardIterator":"\#(token)"}"#, as: Self.producer)?.code
                == .accessDenied
        )
        #expect(await harness.failure(.putRecord, put, as: Self.consumer)?.code == .accessDenied)
        // Nothing the refused calls asked for happened.
        #expect(
            await harness.failure(.createStream, #"{"StreamName":"x","ShardCount":1}"#, as: Self.consumer)?.code
                == .accessDenied
        )
        try await harness.cleanUp()
    }

    @Test("an explicit deny beats an allow, and says so")
    func explicitDeny() async throws {
        let harness = try await Self.harness()
        try await create(harness, "secret")
        let iterator = #"{"StreamName":"secret","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#
        let opened = try await harness.call(.getShardIterator, iterator, as: Self.consumer)
        let token = try #require(opened["ShardIterator"]?.string)
        let refused = await harness.failure(.getRecords, #"{"ShardIterator":"\#(token)"}"#, as: Self.consumer)
        #expect(refused?.code == .accessDenied)
        #expect(refused?.message?.hasSuffix("with an explicit deny in an identity-based policy") == true)
        try await harness.cleanUp()
    }

    @Test("another account's key reaches only the stream whose resource policy names its account")
    func crossAccount() async throws {
        let harness = try await Self.harness()
        try await create(harness, "shared")
        try await create(harness, "private")
        let put = { (name: String) in #"{"StreamName":"\#(name)","PartitionKey":"k","Data":"AA=="}"# }
        // The partner's own policy allows everything, but the streams are not its account's.
        let before = await harness.failure(.putRecord, put("shared"), as: Self.partner)
        #expect(before?.code == .accessDenied)
        #expect(
            before?.message?.hasSuffix("because no resource-based policy allows the kinesis:PutRecord action") == true
        )
        let policy =
            #"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::222222222222:root\"},\"Action\":[\"kinesis:PutRecord\",\"kinesis:DescribeStreamSummary\"],\"Resource\":\"arn:aws:kinesis:us-east-1:000000000000:stream/shared\"}]}"#
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/shared"
        try await harness.call(.putResourcePolicy, #"{"ResourceARN":"\#(arn)","Policy":"\#(policy)"}"#, as: Self.admin)
        try await harness.call(.putRecord, put("shared"), as: Self.partner)
        try await harness.call(.describeStreamSummary, #"{"StreamARN":"\#(arn)"}"#, as: Self.partner)
        #expect(await harness.failure(.putRecord, put("private"), as: Self.partner)?.code == .accessDenied)
        // The policy grants what it names and no more.
        #expect(
            await harness.failure(.deleteStream, #"{"StreamName":"shared"}"#, as: Self.partner)?.code == .accessDenied
        )
        try await harness.cleanUp()
    }

    @Test("aws:SecureTransport: a key allowed only over TLS is refused in cleartext")
    func secureTransport() async throws {
        let harness = try await Self.harness()
        #expect(await harness.failure(.listStreams, "{}", as: Principal(accessKeyID: "AKIDTLS"))?.code == .accessDenied)
        try await harness.call(.listStreams, "{}", as: Principal(accessKeyID: "AKIDTLS", secureTransport: true))
        try await harness.cleanUp()
    }

    @Test("a call naming no key, or a key no longer in the file, is refused before any policy is read")
    func unknownCallers() async throws {
        let harness = try await Self.harness()
        #expect(await harness.failure(.listStreams, "{}")?.code == .missingAuthenticationToken)
        #expect(
            await harness.failure(.listStreams, "{}", as: Principal(accessKeyID: "AKIDGONE"))?.code
                == .unrecognizedClient
        )
        try await harness.cleanUp()
    }
}

/// The credentials in force (`KeyRing`): replaced by a reload, read by every later call.
@Suite struct KeyRingTests {
    static let request = AuthorizationRequest(
        principal: Principal(accessKeyID: "AKIDP"),
        action: .getRecords,
        resource: .arn("arn:aws:kinesis:us-east-1:000000000000:stream/s", account: "000000000000", policy: nil),
        region: "us-east-1"
    )

    static func users(_ actions: String) throws -> CredentialStore {
        try CredentialStore(
            parsing: #"""
                {"Users": [{"Name": "p", "AccessKeyId": "AKIDP", "SecretAccessKey": "s",
                  "Policies": [{"Statement": [{"Effect": "Allow", "Action": \#(actions), "Resource": "*"}]}]}]}
                """#
        )
    }

    @Test("a replaced store decides every later call; a key it drops is unrecognized")
    func replace() throws {
        let keys = KeyRing(try Self.users(#""kinesis:PutRecord""#), defaultAccount: "000000000000")
        let authorizer = PolicyAuthorizer(keys: keys)
        do {
            try authorizer.authorize(Self.request)
            Issue.record("GetRecords was allowed before the reload")
        } catch {
            #expect(error.code == .accessDenied)
        }
        keys.replace(try Self.users(#"["kinesis:PutRecord", "kinesis:GetRecords"]"#))
        try authorizer.authorize(Self.request)
        keys.replace(try CredentialStore(parsing: "OTHER:secret"))
        do {
            try authorizer.authorize(Self.request)
            Issue.record("a dropped key was authorized")
        } catch {
            #expect(error.code == .unrecognizedClient)
        }
    }

    @Test("admin actions need an identity policy naming them; the line form's keys may do them")
    func adminActions() throws {
        let keys = KeyRing(try Self.users(#""kinesis:*""#), defaultAccount: "000000000000")
        do {
            try keys.authorizeAdmin(Principal(accessKeyID: "AKIDP"), action: "rill:RemoveMember")
            Issue.record("kinesis:* allowed an admin action")
        } catch {
            #expect(error.code == .accessDenied)
            #expect(error.message?.contains("kinesis:") == false)
        }
        keys.replace(try CredentialStore(parsing: "AKIDP:secret"))
        try keys.authorizeAdmin(Principal(accessKeyID: "AKIDP"), action: "rill:RemoveMember")
    }
}
