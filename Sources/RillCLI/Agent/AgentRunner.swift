import Logging
import NIOCore
import NIOPosix
import RillClient
import RillKinesis
import RillModel
import RillStorage

/// The shell of `rill agent`: polls each flow's files, feeds what it sees and reads to the flow's
/// `FileFollower`, hands the records to its `FlowShipper`, makes the PutRecords calls the shipper asks for as an
/// idempotent producer, and writes the checkpoint (fsynced, renamed into place) before a new file generation's
/// first record goes out and after every acknowledgement. One loop, one call in flight per flow at a time;
/// blocking file work runs on the thread pool. Stops when its task is cancelled, after the call in flight.
struct AgentRunner: Sendable {
    let configuration: AgentConfiguration
    let endpoint: RillClient.Endpoint
    let signer: SigV4Signer?
    let pollInterval: Duration
    let progressInterval: Duration
    let logger: Logger

    /// Bytes read from one file per poll.
    static let maxReadBytes = 1 << 20
    /// A longer line is cut: Kinesis takes 1 MiB of data and key; the key is at most 32 characters.
    static let maxLineBytes = (1 << 20) - 32

    /// What one flow did, for the progress lines and the final summary.
    struct FlowTotals: Sendable {
        var stream: String
        var filePattern: String
        var counts: FlowShipper.Counts
        var unconverted = 0
        var queued = 0

        var line: String {
            "rill agent: \(stream) \(filePattern): \(counts.sent) records sent, \(counts.failed) failed, "
                + "\(counts.retries) retried, \(unconverted) not converted, \(queued) not yet sent, "
                + "\(counts.calls) PutRecords calls" + (counts.lastError.map { "; last error: \($0)" } ?? "")
        }
    }

    /// One flow's cores and counts.
    private struct FlowRun {
        let flow: AgentConfiguration.Flow
        var follower: FileFollower
        var shipper: FlowShipper
        let processor: RecordProcessor
        var unconverted = 0

        var totals: FlowTotals {
            FlowTotals(
                stream: flow.kinesisStream,
                filePattern: flow.filePattern,
                counts: shipper.counts,
                unconverted: unconverted,
                queued: shipper.queued
            )
        }
    }

    func run(group: any EventLoopGroup, pool: NIOThreadPool) async throws -> [FlowTotals] {
        let path = configuration.checkpointFile
        let saved: AgentCheckpoint
        do {
            if let bytes = try await pool.runIfActive({ try AtomicFile.read(path: path) }) {
                saved = try AgentCheckpoint.decode(bytes)
            } else {
                saved = AgentCheckpoint()
            }
        } catch {
            // Starting over would resend or skip whole files: an operator decides.
            throw ToolFailure("rill agent: cannot read the checkpoint file \(path): \(error)")
        }
        var flows: [FlowRun] = []
        for flow in configuration.flows {
            var settings = FlowShipper.Settings()
            settings.maxRecords = flow.maxBufferSizeRecords
            settings.maxBytes = flow.maxBufferSizeBytes
            settings.maxAge = .milliseconds(flow.maxBufferAgeMillis)
            flows.append(
                FlowRun(
                    flow: flow,
                    follower: FileFollower(
                        checkpoint: saved.flows[flow.checkpointKey] ?? [],
                        initialPosition: flow.initialPosition
                    ),
                    shipper: FlowShipper(settings: settings),
                    processor: try RecordProcessor(flow.dataProcessingOptions)
                )
            )
        }
        var checkpoint = saved
        var client: KinesisClient?
        var random = SystemRandomNumberGenerator()
        let clock = ContinuousClock()
        let start = clock.now
        var nextPoll = Duration.zero
        var nextProgress = progressInterval
        logger.info(
            "agent started",
            metadata: ["agent.flows": "\(flows.count)", "agent.checkpoint": "\(path)", "agent.endpoint": "\(endpoint)"]
        )

        func save() async throws {
            var next = AgentCheckpoint()
            for run in flows { next.flows[run.flow.checkpointKey] = run.follower.checkpoint }
            guard next != checkpoint else { return }
            let bytes = try next.encoded()
            do {
                try await pool.runIfActive { try AtomicFile.write(path: path, bytes: bytes) }
            } catch {
                throw ToolFailure("rill agent: cannot write the checkpoint file \(path): \(error)")
            }
            checkpoint = next
        }

        while !Task.isCancelled {
            if clock.now - start >= nextPoll {
                for index in flows.indices {
                    try await poll(&flows[index], pool: pool, now: clock.now - start, random: &random)
                }
                nextPoll = clock.now - start + pollInterval
            }
            // A new generation's producer id is on disk before any of its records is sent.
            try await save()
            for index in flows.indices {
                while !Task.isCancelled, let call = flows[index].shipper.nextCall(now: clock.now - start) {
                    await send(call, &flows[index], client: &client, group: group, start: start, random: &random)
                    try await save()
                }
            }
            if clock.now - start >= nextProgress {
                for run in flows {
                    let totals = run.totals
                    logger.info(
                        "agent progress",
                        metadata: [
                            "rill.stream": "\(totals.stream)", "agent.sent": "\(totals.counts.sent)",
                            "agent.failed": "\(totals.counts.failed)", "agent.retried": "\(totals.counts.retries)",
                            "agent.queued": "\(totals.queued)", "agent.unconverted": "\(totals.unconverted)",
                        ]
                    )
                }
                nextProgress = clock.now - start + progressInterval
            }
            var wake = nextPoll
            for run in flows { if let at = run.shipper.wakeAt(), at < wake { wake = at } }
            if wake > clock.now - start {
                do {
                    try await Task.sleep(until: start + wake, clock: clock)
                } catch {
                    break  // cancelled: stop
                }
            }
        }
        try await save()
        await client?.close()
        return flows.map(\.totals)
    }

    // MARK: - Files

    private func poll(
        _ run: inout FlowRun,
        pool: NIOThreadPool,
        now: Duration,
        random: inout SystemRandomNumberGenerator
    ) async throws {
        let pattern = run.flow.filePattern
        let observed: [ObservedFile]
        do {
            observed = try await pool.runIfActive { try AgentFiles.observe(pattern: pattern) }
        } catch {
            logger.warning("agent cannot list files", metadata: ["agent.pattern": "\(pattern)", "error": "\(error)"])
            return
        }
        let (reads, events) = run.follower.observe(observed, random: &random)
        for event in events { log(event, stream: run.flow.kinesisStream) }
        for read in reads {
            var from = read.from
            while from < read.to, run.shipper.acceptsInput {
                let count = Int(min(read.to - from, Int64(Self.maxReadBytes)))
                let offset = from
                guard
                    let bytes = try await pool.runIfActive({
                        try AgentFiles.read(path: read.path, identity: read.identity, offset: offset, count: count)
                    }), !bytes.isEmpty
                else { break }
                let lines = run.follower.didRead(
                    producerID: read.producerID,
                    bytes: bytes,
                    from: offset,
                    maxLineBytes: Self.maxLineBytes
                )
                guard !lines.isEmpty else { break }
                var records: [FlowShipper.Record] = []
                records.reserveCapacity(lines.count)
                for line in lines { records.append(record(for: line, in: &run, random: &random)) }
                run.shipper.add(records, now: now)
                from = lines[lines.count - 1].endOffset
            }
        }
    }

    private func record(
        for line: FileFollower.Line,
        in run: inout FlowRun,
        random: inout SystemRandomNumberGenerator
    ) -> FlowShipper.Record {
        let output = run.processor.process(line.data)
        var data = output.data
        if output.unconverted { run.unconverted += 1 }
        if data.count > Self.maxLineBytes {
            // Conversion grew the record past what Kinesis takes: send the line as it was.
            data = line.data
            run.unconverted += 1
        }
        let key: String
        switch run.flow.partitionKeyOption {
        case .random:
            key = String(UInt64.random(in: 0...UInt64.max, using: &random), radix: 16)
        case .deterministic:
            key = MD5.hash(data).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        }
        return FlowShipper.Record(
            producerID: line.producerID,
            sequence: line.sequence,
            entry: ProducerEntry(partitionKey: key, data: data),
            endOffset: line.endOffset
        )
    }

    private func log(_ event: FileFollower.Event, stream: String) {
        var logger = self.logger
        logger[metadataKey: "rill.stream"] = "\(stream)"
        switch event {
        case .started(let path, let offset):
            logger.info("agent following file", metadata: ["agent.file": "\(path)", "agent.offset": "\(offset)"])
        case .rotated(let from, let to):
            logger.info("agent file rotated", metadata: ["agent.file": "\(from)", "agent.next": "\(to)"])
        case .truncated(let path, .some(let copy)):
            logger.info(
                "agent file truncated, reading the rest from its copy",
                metadata: ["agent.file": "\(path)", "agent.copy": "\(copy)"]
            )
        case .truncated(let path, nil):
            logger.warning(
                "agent file truncated with no copy found: lines written after the last read are lost",
                metadata: ["agent.file": "\(path)"]
            )
        case .lost(let path, let bytes):
            logger.warning(
                "agent file vanished before it was read to the end",
                metadata: ["agent.file": "\(path)", "agent.unread": "\(bytes.map { "\($0) bytes" } ?? "unknown")"]
            )
        }
    }

    // MARK: - Calls

    private func send(
        _ call: FlowShipper.Call,
        _ run: inout FlowRun,
        client: inout KinesisClient?,
        group: any EventLoopGroup,
        start: ContinuousClock.Instant,
        random: inout SystemRandomNumberGenerator
    ) async {
        let clock = ContinuousClock()
        if client == nil {
            do {
                client = try await KinesisClient.connect(to: endpoint, on: group, signer: signer)
            } catch {
                run.shipper.failed("cannot connect to \(endpoint): \(error)", now: clock.now - start, random: &random)
                return
            }
        }
        guard let connection = client else { return }
        let result = await connection.putRecords(
            stream: run.flow.kinesisStream,
            entries: call.entries,
            producer: ProducerStamp(producerID: call.producerID, sequences: call.sequences)
        )
        let now = clock.now - start
        switch result {
        case .answered(let outcomes):
            if let ack = run.shipper.answered(outcomes, now: now, random: &random) {
                run.follower.acknowledged(producerID: ack.producerID, through: ack.offset, nextLine: ack.nextLine)
            }
        case .failed(.transport(let reason)):
            run.shipper.failed(reason, now: now, random: &random)
            // The next call connects afresh.
            await connection.close()
            client = nil
        case .failed(.error(let code, let message)):
            run.shipper.failed("\(code): \(message)", now: now, random: &random)
            if !PutBatcher.retryableCodes.contains(code) {
                logger.error(
                    "agent PutRecords refused; retrying until it is accepted",
                    metadata: ["rill.stream": "\(run.flow.kinesisStream)", "error.code": "\(code)"]
                )
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
