import NIOCore
import RillClient
import RillKinesis

/// `--handler FILE.py:FUNCTION`: long-lived `python3` processes, one per concurrent invocation slot, each loading
/// the handler's module once and calling `handler(event, context)` for every batch it is given, as a warm Lambda
/// execution environment does.
///
/// The protocol is framed JSON, one object per line (JSON text never holds a raw newline): in on standard input
/// `{"requestId": ..., "deadlineMs": ..., "event": {...}}`; out on the original standard output
/// `{"ok": true, "result": ...}` or `{"ok": false, "errorType": ..., "errorMessage": ...}`. The host moves that
/// pipe aside at start and gives the handler descriptor 3, the trigger's own standard output, as its `print`
/// target (its standard error is the trigger's too), so a handler that prints works unchanged.
actor PythonHostPool {
    let file: String
    let function: String
    let functionName: String
    let group: any EventLoopGroup
    private var idle: [ChildProcess] = []
    private var closed = false

    init(file: String, function: String, functionName: String, group: any EventLoopGroup) {
        self.file = file
        self.function = function
        self.functionName = functionName
        self.group = group
    }

    /// Invokes the handler in an idle host (started when none is idle). A host that timed out or died is
    /// discarded; the next invocation starts a fresh one (a cold start).
    func invoke(
        event: [UInt8],
        requestID: String,
        deadline: NIODeadline,
        deadlineEpochMillis: Int64
    )
        async -> InvocationResult
    {
        let host: ChildProcess
        if let warm = idle.popLast() {
            host = warm
        } else {
            do {
                host = try await ChildProcess.spawn(
                    ["python3", "-u", "-c", Self.script, file, function, functionName],
                    framing: .lines,
                    passStandardOutput: true,
                    on: group
                )
            } catch {
                return .failed("could not start python3: \(error)")
            }
        }
        var frame = JSONWriter(capacity: event.count + 128)
        frame.beginObject()
        frame.key("requestId")
        frame.string(requestID)
        frame.key("deadlineMs")
        frame.int(deadlineEpochMillis)
        frame.key("event")
        frame.raw(event)
        frame.endObject()
        var bytes = frame.bytes
        bytes.append(0x0A)
        let answer: [UInt8]
        do {
            answer = try await host.exchange(bytes, closeInput: false, deadline: deadline)
        } catch {
            _ = await host.stop(kill: true)
            return .failed("\(error)")
        }
        if closed {
            _ = await host.stop(kill: false)
        } else {
            idle.append(host)
        }
        guard case .object(let object)? = try? JSONParser.parse(answer) else {
            return .failed("the host answered with something that is not JSON")
        }
        guard case .bool(true)? = object["ok"] else {
            let type = KinesisReply.string(object, "errorType") ?? "Error"
            let message = KinesisReply.string(object, "errorMessage") ?? ""
            return .failed("\(type): \(message)")
        }
        return .returned(object["result"] ?? .null)
    }

    /// Ends every idle host: each reads end of input and exits. Hosts still invoking end when they return.
    func shutdown() async {
        closed = true
        let hosts = idle
        idle = []
        for host in hosts { _ = await host.stop(kill: false) }
    }

    /// The host, run as `python3 -u -c SCRIPT FILE FUNCTION FUNCTION_NAME`.
    static let script = #"""
        import importlib.util, json, logging, os, sys, time, traceback
        path, function, function_name = sys.argv[1:4]
        requests = os.fdopen(os.dup(0), "rb")
        answers = os.fdopen(os.dup(1), "wb")
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(3, 1)
        os.close(3)
        # The root logger as Lambda's Python runtime sets it up before importing the function: one handler on
        # standard output writing [LEVEL] time request-id message, the level WARNING unless AWS_LAMBDA_LOG_LEVEL
        # says otherwise; so a function that logs with `logging` shows what it would in CloudWatch Logs.
        class RequestID(logging.Filter):
            current = ""
            def filter(self, record):
                record.aws_request_id = RequestID.current
                return True
        log_handler = logging.StreamHandler(sys.stdout)
        log_format = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")
        log_format.converter = time.gmtime
        log_handler.setFormatter(log_format)
        log_handler.addFilter(RequestID())
        logging.getLogger().addHandler(log_handler)
        levels = {"TRACE": "DEBUG", "DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR",
                  "FATAL": "CRITICAL"}
        logging.getLogger().setLevel(levels.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARN").upper(), "WARNING"))
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler = getattr(module, function)

        class Context:
            def __init__(self, request_id, deadline_ms):
                self.function_name = function_name
                self.function_version = "$LATEST"
                self.invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + function_name
                self.memory_limit_in_mb = "0"
                self.aws_request_id = request_id
                self.log_group_name = "/aws/lambda/" + function_name
                self.log_stream_name = "rill-trigger"
                self._deadline_ms = deadline_ms
            def get_remaining_time_in_millis(self):
                return max(0, int(self._deadline_ms - time.time() * 1000))

        for line in requests:
            request = json.loads(line)
            RequestID.current = request["requestId"]
            try:
                result = handler(request["event"], Context(request["requestId"], request["deadlineMs"]))
                answer = json.dumps({"ok": True, "result": result})
            except Exception as error:
                traceback.print_exc()
                answer = json.dumps({"ok": False, "errorType": type(error).__name__, "errorMessage": str(error)})
            sys.stdout.flush()
            answers.write(answer.encode() + b"\n")
            answers.flush()
        """#
}
