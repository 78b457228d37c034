import RillKinesis
import Testing

@Suite struct RecordProcessorTests {
    private func run(_ options: [ProcessingOption], _ line: String) throws -> (String, Bool) {
        let output = try RecordProcessor(options).process(Array(line.utf8))
        return (String(decoding: output.data, as: UTF8.self), output.unconverted)
    }

    @Test("no options: the line goes as read, newline included")
    func plain() throws {
        #expect(try run([], "a line\n") == ("a line\n", false))
    }

    @Test("SINGLELINE removes the newline and the spaces around the line")
    func singleLine() throws {
        #expect(try run([.singleLine], "   indented value \t\n") == ("indented value", false))
        #expect(try run([.singleLine], "a\r\n") == ("a", false))
    }

    @Test("CSVTOJSON names the fields in order, trims them, null where a value is missing")
    func csv() throws {
        let option = ProcessingOption.csvToJSON(fieldNames: ["f1", "f2", "f3"], delimiter: ",")
        #expect(try run([option], "v1, v2,\"q\"\n") == (#"{"f1":"v1","f2":"v2","f3":"\"q\""}"# + "\n", false))
        #expect(try run([option], "only\n") == (#"{"f1":"only","f2":null,"f3":null}"# + "\n", false))
        let tabs = ProcessingOption.csvToJSON(fieldNames: ["a", "b"], delimiter: "\t")
        #expect(try run([tabs], "1\t2\t3\n") == (#"{"a":"1","b":"2"}"# + "\n", false))
    }

    @Test("LOGTOJSON COMMONAPACHELOG, with - as null")
    func commonApache() throws {
        let line =
            #"64.242.88.10 - - [07/Mar/2004:16:10:02 -0800] "GET /mailman/listinfo/hsdivision HTTP/1.1" 200 6291"#
        let expected =
            #"{"host":"64.242.88.10","ident":null,"authuser":null,"datetime":"07/Mar/2004:16:10:02 -0800","#
            + #""request":"GET /mailman/listinfo/hsdivision HTTP/1.1","response":"200","bytes":"6291"}"# + "\n"
        #expect(
            try run([.logToJSON(format: .commonApacheLog, matchPattern: nil, fieldNames: nil)], line + "\n") == (
                expected, false
            )
        )
    }

    @Test("LOGTOJSON COMBINEDAPACHELOG adds referrer and agent")
    func combinedApache() throws {
        let line =
            #"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://x/start.html" "Mozilla/4.08""#
        let expected =
            #"{"host":"127.0.0.1","ident":null,"authuser":"frank","datetime":"10/Oct/2000:13:55:36 -0700","#
            + #""request":"GET /a.gif HTTP/1.0","response":"200","bytes":"2326","referrer":"http://x/start.html","#
            + #""agent":"Mozilla/4.08"}"# + "\n"
        #expect(
            try run([.logToJSON(format: .combinedApacheLog, matchPattern: nil, fieldNames: nil)], line + "\n") == (
                expected, false
            )
        )
    }

    @Test("LOGTOJSON APACHEERRORLOG")
    func apacheError() throws {
        let line =
            "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /a"
        let expected =
            #"{"timestamp":"Fri Sep 09 10:42:29.902022 2011","module":"core","severity":"error","processid":"35708","#
            + #""threadid":"4328636416","client":"72.15.99.187","message":"File does not exist: /a"}"# + "\n"
        #expect(
            try run([.logToJSON(format: .apacheErrorLog, matchPattern: nil, fieldNames: nil)], line + "\n") == (
                expected, false
            )
        )
    }

    @Test("LOGTOJSON SYSLOG and RFC3339SYSLOG; no pid is null")
    func syslog() throws {
        let option = ProcessingOption.logToJSON(format: .syslog, matchPattern: nil, fieldNames: nil)
        #expect(
            try run([option], "Mar 12 12:00:08 server2 rcd[308]: Loaded 12 packages in 'ximian-red-carpet|351'\n")
                == (
                    #"{"timestamp":"Mar 12 12:00:08","hostname":"server2","program":"rcd","processid":"308","#
                        + #""message":"Loaded 12 packages in 'ximian-red-carpet|351'"}"# + "\n", false
                )
        )
        #expect(
            try run([option], "Mar  2 01:02:03 host cron: job done\n")
                == (
                    #"{"timestamp":"Mar  2 01:02:03","hostname":"host","program":"cron","processid":null,"message":"job done"}"#
                        + "\n", false
                )
        )
        let rfc = ProcessingOption.logToJSON(format: .rfc3339Syslog, matchPattern: nil, fieldNames: nil)
        #expect(
            try run([rfc], "2026-12-06T10:00:00.123+01:00 web1 nginx[12]: started\n")
                == (
                    #"{"timestamp":"2026-12-06T10:00:00.123+01:00","hostname":"web1","program":"nginx","processid":"12","message":"started"}"#
                        + "\n", false
                )
        )
    }

    @Test("LOGTOJSON with a matchPattern and customFieldNames; a line that does not match goes unchanged")
    func customPattern() throws {
        let option = ProcessingOption.logToJSON(
            format: .syslog,
            matchPattern: #"^(\w+)=(\d+)$"#,
            fieldNames: ["name", "value"]
        )
        #expect(try run([option], "load=42\n") == (#"{"name":"load","value":"42"}"# + "\n", false))
        #expect(try run([option], "not a match\n") == ("not a match\n", true))
    }

    @Test("options apply in order")
    func ordered() throws {
        let options: [ProcessingOption] = [.singleLine, .csvToJSON(fieldNames: ["a"], delimiter: ",")]
        #expect(try run(options, "  x  \n") == (#"{"a":"x"}"# + "\n", false))
    }
}
