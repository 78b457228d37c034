import RillKinesis
import Testing

@Suite struct AgentConfigurationTests {
    @Test("a Kinesis Agent configuration parses with its defaults and options")
    func parses() throws {
        let json = """
            {"checkpointFile": "/tmp/cp", "kinesis.endpoint": "http://127.0.0.1:4567",
             "flows": [{"filePattern": "/var/log/app.log*", "kinesisStream": "logs",
                        "partitionKeyOption": "DETERMINISTIC", "initialPosition": "START_OF_FILE",
                        "maxBufferAgeMillis": 250, "maxBufferSizeRecords": 100, "maxBufferSizeBytes": 65536,
                        "dataProcessingOptions": [{"optionName": "SINGLELINE"},
                            {"optionName": "CSVTOJSON", "customFieldNames": ["a", "b"], "delimiter": "|"},
                            {"optionName": "LOGTOJSON", "logFormat": "SYSLOG"}]},
                       {"filePattern": "/var/log/other", "kinesisStream": "logs"}]}
            """
        let configuration = try AgentConfiguration.parse(Array(json.utf8))
        #expect(configuration.checkpointFile == "/tmp/cp")
        #expect(configuration.endpoint == "http://127.0.0.1:4567")
        let flow = configuration.flows[0]
        #expect(flow.partitionKeyOption == .deterministic)
        #expect(flow.initialPosition == .startOfFile)
        #expect(flow.maxBufferAgeMillis == 250 && flow.maxBufferSizeRecords == 100 && flow.maxBufferSizeBytes == 65536)
        #expect(
            flow.dataProcessingOptions == [
                .singleLine, .csvToJSON(fieldNames: ["a", "b"], delimiter: "|"),
                .logToJSON(format: .syslog, matchPattern: nil, fieldNames: nil),
            ]
        )
        let plain = configuration.flows[1]
        #expect(plain.partitionKeyOption == .random && plain.initialPosition == .endOfFile)
        #expect(plain.maxBufferAgeMillis == 60_000 && plain.maxBufferSizeRecords == 500)
    }

    @Test(
        "settings rill agent does not honour are refused, naming the key",
        arguments: [
            (
                #"{"flows":[{"filePattern":"/a","kinesisStream":"s","multiLineStartPattern":"x"}]}"#,
                "multiLineStartPattern"
            ),
            (
                #"{"cloudwatch.emitMetrics":true,"flows":[{"filePattern":"/a","kinesisStream":"s"}]}"#,
                "cloudwatch.emitMetrics"
            ),
            (#"{"flows":[{"filePattern":"/a","deliveryStream":"s"}]}"#, "deliveryStream"),
            (
                #"{"flows":[{"filePattern":"/a","kinesisStream":"s","partitionKeyOption":"HASH"}]}"#,
                "partitionKeyOption"
            ),
            (
                #"{"flows":[{"filePattern":"/a","kinesisStream":"s","maxBufferSizeRecords":501}]}"#,
                "maxBufferSizeRecords"
            ),
            (#"{"flows":[{"filePattern":"a.log","kinesisStream":"s"}]}"#, "filePattern"),
            (#"{"flows":[{"filePattern":"/var/*/a.log","kinesisStream":"s"}]}"#, "filePattern"),
            (#"{"flows":[]}"#, "flows"),
            (
                #"{"flows":[{"filePattern":"/a","kinesisStream":"s","dataProcessingOptions":[{"optionName":"ADDMETADATA"}]}]}"#,
                "optionName"
            ),
            (
                #"{"flows":[{"filePattern":"/a","kinesisStream":"s","dataProcessingOptions":[{"optionName":"CSVTOJSON"}]}]}"#,
                "customFieldNames"
            ),
            (
                #"{"flows":[{"filePattern":"/a","kinesisStream":"s","dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"SYSLOG","matchPattern":"(a"}]}]}"#,
                "matchPattern"
            ),
            ("not json", "not JSON"),
        ]
    )
    func refuses(json: String, naming key: String) {
        let error = #expect(throws: AgentConfiguration.Invalid.self) { try AgentConfiguration.parse(Array(json.utf8)) }
        #expect(error?.description.contains(key) == true, "\(String(describing: error))")
    }
}
