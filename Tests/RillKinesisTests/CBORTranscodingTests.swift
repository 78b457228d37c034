import RillKinesis
import Testing

@Suite struct CBORTranscodingTests {
    private func json(_ build: (inout CBORWriter) -> Void) throws -> JSONObject {
        var writer = CBORWriter()
        build(&writer)
        let value = try JSONParser.parse(try WireProtocol.cbor.requestJSON(writer.bytes))
        guard case .object(let object) = value else { throw CBORFailure(offset: 0, reason: "not an object") }
        return object
    }

    @Test("a PutRecords request: byte strings become base64, other members keep their values")
    func putRecords() throws {
        let body = try json { w in
            w.beginMap()
            w.text("StreamName")
            w.text("s\"1")
            w.text("Records")
            w.beginArray()
            for i in 0..<30 {
                w.beginMap()
                w.text("Data")
                w.bytes([UInt8(i), 0xFF])
                w.text("PartitionKey")
                w.text("pk-\(i)")
                w.endMap()
            }
            w.endArray()
            w.text("Limit")
            w.int(-7)
            w.text("Flag")
            w.bool(true)
            w.text("Gone")
            w.null()
            w.endMap()
        }
        #expect(body["StreamName"] == .string("s\"1"))
        #expect(body["Limit"] == .number("-7"))
        #expect(body["Flag"] == .bool(true))
        #expect(body["Gone"] == nil)
        guard case .array(let records)? = body["Records"], case .object(let last)? = records.last else {
            Issue.record("no records")
            return
        }
        #expect(records.count == 30)
        #expect(last["Data"] == .string(Base64.encode([29, 0xFF])))
        #expect(last["PartitionKey"] == .string("pk-29"))
    }

    @Test(
        "timestamp members: integers are milliseconds, floats seconds, tagged or not",
        arguments: [
            ("c11b0000018bcfe5687b", "1700000000.123"), ("1b0000018bcfe5687b", "1700000000.123"),
            ("c1fb41d954fc40080000", "1700000000.125"), ("c13903e7", "-1.000"), ("c100", "0.000"),
        ]
    )
    func timestamps(encoded: String, seconds: String) throws {
        let body = try WireProtocol.cbor.requestJSON(hex("a1 69 54696d657374616d70" + encoded))  // {"Timestamp": …}
        var reader = try RequestReader(bytes: body)
        let millis = try reader.timestamp("Timestamp")
        guard case .object(let object) = try JSONParser.parse(body), case .number(let text)? = object["Timestamp"]
        else {
            Issue.record("no number")
            return
        }
        #expect(Double(text) == Double(seconds))
        #expect(millis == Int64((Double(seconds)! * 1000).rounded(.down)))
    }

    @Test("tag keys inside Tags are not member names")
    func tagMaps() throws {
        let body = try json { w in
            w.beginMap()
            w.text("Tags")
            w.beginMap()
            w.text("Data")
            w.text("not base64!")
            w.text("Timestamp")
            w.text("x")
            w.endMap()
            w.endMap()
        }
        guard case .object(let tags)? = body["Tags"] else {
            Issue.record("no tags")
            return
        }
        #expect(tags["Data"] == .string("not base64!"))
        #expect(tags["Timestamp"] == .string("x"))
    }

    @Test(
        "refused shapes",
        arguments: [
            "a16a53747265616d4e616d654161",  // {"StreamName": h'61'}: a byte string outside a blob
            "a1016161",  // an integer key
            "a1654c696d6974f97e00",  // {"Limit": NaN}
            "a164466c6167f0",  // a bare simple value
        ]
    )
    func refusesShapes(encoded: String) {
        #expect(throws: KinesisError.self) { try WireProtocol.cbor.requestJSON(hex(encoded)) }
    }

    @Test("indefinite maps, arrays and strings read like definite ones")
    func indefinite() throws {
        // {_ "StreamName": (_ "ab", "c"), "Records": [_ {_ "Data": (_ h'01', h'02')}]}
        let bytes = hex(
            "bf 6a53747265616d4e616d65 7f 626162 6163 ff 675265636f726473 9f bf 6444617461 5f 4101 4102 ff ff ff ff"
        )
        let value = try JSONParser.parse(try WireProtocol.cbor.requestJSON(bytes))
        guard case .object(let body) = value, case .array(let records)? = body["Records"],
            case .object(let record)? = records.first
        else {
            Issue.record("wrong shape")
            return
        }
        #expect(body["StreamName"] == .string("abc"))
        #expect(record["Data"] == .string(Base64.encode([1, 2])))
    }

    @Test("a GetRecords reply: Data becomes a byte string, timestamps tag 1 with milliseconds")
    func getRecordsReply() throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("Records")
        w.beginArray()
        for i in 0..<300 {
            w.beginObject()
            w.key("SequenceNumber")
            w.string("4960\(i)")
            w.key("ApproximateArrivalTimestamp")
            w.timestamp(millis: 1_700_000_000_000 + Int64(i))
            w.key("Data")
            w.base64([UInt8(i % 256), 1])
            w.key("PartitionKey")
            w.string("k\n\(i)é")
            w.endObject()
        }
        w.endArray()
        w.key("MillisBehindLatest")
        w.int(0)
        w.key("NextShardIterator")
        w.string("AAA=")
        w.key("ChildShards")
        w.beginArray()
        w.endArray()
        w.endObject()
        let cbor = try WireProtocol.cbor.responseBody(w.bytes)
        let value = try CBORDecoder.decode(cbor)
        guard case .array(let records)? = value["Records"], let last = records.last else {
            Issue.record("no records")
            return
        }
        #expect(records.count == 300)
        #expect(last["Data"] == .bytes([43, 1]))
        #expect(last["ApproximateArrivalTimestamp"] == .tagged(1, .unsigned(1_700_000_000_299)))
        #expect(last["PartitionKey"] == .text("k\n299é"))
        #expect(value["MillisBehindLatest"] == .unsigned(0))
        #expect(value["NextShardIterator"] == .text("AAA="))
        #expect(value["ChildShards"] == .array([]))
    }

    @Test("empty outputs stay empty, and errors are CBOR maps")
    func emptyAndErrors() throws {
        #expect(try WireProtocol.cbor.responseBody([]) == [])
        let error = WireProtocol.cbor.errorBody(KinesisError(.resourceNotFound, "Stream s under account 1 not found."))
        #expect(
            try CBORDecoder.decode(error)
                == .map([
                    CBORPair(.text("__type"), .text("ResourceNotFoundException")),
                    CBORPair(.text("message"), .text("Stream s under account 1 not found.")),
                ])
        )
        let serialization = WireProtocol.cbor.errorBody(KinesisError(.serialization, "bad"))
        #expect(try CBORDecoder.decode(serialization)["Message"] == .text("bad"))
    }

    @Test(
        "the content type chooses the protocol",
        arguments: [
            ("application/x-amz-cbor-1.1", WireProtocol.cbor), ("Application/X-Amz-Cbor-1.1; charset=x", .cbor),
            ("application/x-amz-json-1.1", .json), ("application/json", .json), (nil, .json),
        ] as [(String?, WireProtocol)]
    )
    func contentTypes(header: String?, expected: WireProtocol) {
        #expect(WireProtocol(contentType: header) == expected)
    }

    /// The GetRecords reply a node writes straight into CBOR must be the bytes the edge would make from the
    /// JSON reply, so a client cannot tell which path served it.
    @Test("a reply written in CBOR equals the JSON reply transcoded", arguments: [0, 1, 30, 300])
    func writersAgree(records: Int) throws {
        func reply(_ w: inout some ResponseWriter) {
            w.beginObject()
            w.key("Records")
            w.beginArray()
            for i in 0..<records {
                w.beginObject()
                w.key("SequenceNumber")
                w.string("4960\(i)")
                w.key("ApproximateArrivalTimestamp")
                w.timestamp(millis: 1_700_000_000_000 + Int64(i))
                w.key("Data")
                w.blob((0..<(i % 40)).map { UInt8(truncatingIfNeeded: $0 * 7) })
                w.key("PartitionKey")
                w.string("k\"\(i)")
                w.endObject()
            }
            w.endArray()
            w.key("NextShardIterator")
            w.string("AAAA")
            w.key("MillisBehindLatest")
            w.int(UInt64(records) * 1000)
            w.key("Flag")
            w.bool(records > 0)
            w.endObject()
        }
        var json = JSONWriter()
        reply(&json)
        var cbor = CBORWriter()
        reply(&cbor)
        #expect(try JSONToCBOR.transcode(json.bytes) == cbor.bytes)
    }

    @Test("a node reads a CBOR PutRecords body with its blobs as bytes, never base64")
    func directReader() throws {
        var w = CBORWriter()
        w.beginMap()
        w.text("StreamName")
        w.text("s")
        w.text("Records")
        w.beginArray()
        w.beginMap()
        w.text("Data")
        w.bytes([0, 255, 7])
        w.text("PartitionKey")
        w.text("k")
        w.endMap()
        w.endArray()
        w.endMap()
        var reader = try RequestReader(cbor: w.bytes)
        guard case .object(let record)? = try reader.array("Records")?.first else {
            Issue.record("no record")
            return
        }
        #expect(try reader.blob("Data", in: record) == [0, 255, 7])
        #expect(throws: KinesisError.self) { try RequestReader(cbor: [0x81, 0x01]) }
        #expect(throws: KinesisError.self) { try RequestReader(cbor: []) }
    }
}
