import RillKinesis
import RillModel
import Testing

@testable import RillNode

/// The tags and policies service against an in-memory catalog: no node, no Raft, no disk.
@Suite struct TagsServiceTests {
    func service(_ metadata: FakeMetadata) -> TagsService {
        TagsService(metadata: metadata, proposer: metadata)
    }

    func reader(_ json: String) throws -> RequestReader {
        try RequestReader(bytes: Array(json.utf8))
    }

    @Test("AddTagsToStream commits the tags, and ListTagsForStream lists them sorted, a page at a time")
    func addThenList() async throws {
        let metadata = try await FakeMetadata.withStream()
        let tags = service(metadata)
        var add = try reader(#"{"StreamName":"s","Tags":{"b":"2","a":"1","c":"3"}}"#)
        _ = try await tags.addTags(&add, FakeMetadata.namespace)
        #expect(metadata.catalog.stream("s", in: FakeMetadata.namespace)?.tags == ["a": "1", "b": "2", "c": "3"])
        var list = try reader(#"{"StreamName":"s","Limit":2}"#)
        let page = try tags.listTags(&list, FakeMetadata.namespace)
        #expect(
            String(decoding: page.body, as: UTF8.self)
                == #"{"Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}],"HasMoreTags":true}"#
        )
    }

    @Test("more than 50 tags on a stream is LimitExceeded, and nothing is committed")
    func tooManyTags() async throws {
        let metadata = try await FakeMetadata.withStream()
        let tags = service(metadata)
        let committed = metadata.commands.count
        let many = (0..<51).map { #""k\#($0)":"v""# }.joined(separator: ",")
        var add = try reader(#"{"StreamName":"s","Tags":{\#(many)}}"#)
        await #expect(throws: KinesisError.self) { try await tags.addTags(&add, FakeMetadata.namespace) }
        #expect(metadata.commands.count == committed)
    }

    @Test("a stream that does not exist is ResourceNotFound naming it and the account")
    func unknownStream() async throws {
        let metadata = try await FakeMetadata.withStream()
        var add = try reader(#"{"StreamName":"nope","Tags":{"a":"1"}}"#)
        do {
            _ = try await service(metadata).addTags(&add, FakeMetadata.namespace)
            Issue.record("expected ResourceNotFound")
        } catch let error as KinesisError {
            #expect(error.code == .resourceNotFound)
            #expect(error.message?.contains("nope") == true)
        }
    }

    @Test("a resource policy is put, read back, and deleted; deleting it again is ResourceNotFound")
    func policies() async throws {
        let metadata = try await FakeMetadata.withStream()
        let tags = service(metadata)
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        let document =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kinesis:Get*","Resource":"*"}]}"#
        let escaped = String(document.flatMap { $0 == "\"" ? ["\\", "\""] : [$0] })
        var put = try reader(#"{"ResourceARN":"\#(arn)","Policy":"\#(escaped)"}"#)
        _ = try await tags.putResourcePolicy(&put, FakeMetadata.namespace)
        var get = try reader(#"{"ResourceARN":"\#(arn)"}"#)
        let policy = try tags.getResourcePolicy(&get, FakeMetadata.namespace)
        #expect(String(decoding: policy.body, as: UTF8.self) == #"{"Policy":"\#(escaped)"}"#)
        var delete = try reader(#"{"ResourceARN":"\#(arn)"}"#)
        _ = try await tags.deleteResourcePolicy(&delete, FakeMetadata.namespace)
        var again = try reader(#"{"ResourceARN":"\#(arn)"}"#)
        await #expect(throws: KinesisError.self) { try await tags.deleteResourcePolicy(&again, FakeMetadata.namespace) }
    }

    @Test("a policy the authorizer could not evaluate is refused when put, naming what is wrong")
    func invalidPolicyRefused() async throws {
        let metadata = try await FakeMetadata.withStream()
        let tags = service(metadata)
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        // A resource policy's statement must say whom it is for.
        var put = try reader(
            #"{"ResourceARN":"\#(arn)","Policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}"#
        )
        do {
            _ = try await tags.putResourcePolicy(&put, FakeMetadata.namespace)
            Issue.record("an invalid policy was stored")
        } catch let error as KinesisError {
            #expect(error.code == .invalidArgument)
            #expect(error.message?.contains("needs a Principal") == true)
        }
    }
}
