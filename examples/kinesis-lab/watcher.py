"""What S3's event notification does in the lab, for a folder: each file uploaded to inbox/ (the bucket) becomes an
S3 `ObjectCreated:Put` event, and the producer Lambda function is invoked with it.

    python3 watcher.py --inbox DIR --bucket NAME --handler producer.py:lambda_handler [--suffix .txt]

An upload counts once the file is complete, as an S3 object exists only once its upload finished. On Linux the
watcher acts on inotify's IN_CLOSE_WRITE (a writer closed the file) and IN_MOVED_TO (a file renamed into the
folder, how editors and `rsync` write); elsewhere, or with --poll, on a size and modification time that stayed the
same for --settle seconds. Files already there when the watcher starts are not announced (S3 notifies new uploads
only); hidden files (`.name`) and names without the suffix are left alone, as the lab's event notification
filters on `.txt`. Each close after a write is an upload: a file written again is announced again, as S3
announces each PUT of a key.

The function runs in this process, loaded once (a warm execution environment), with a Lambda context; its output
and Lambda's START / END / REPORT lines go to standard output, the run script's logs/producer.log, which stands in
for the function's CloudWatch log group. A function error (an exception, or running past --timeout) is retried
twice, as Lambda retries an asynchronous invocation, after 1 and 2 seconds rather than Lambda's 1 and 2 minutes;
then the event is dropped with a line saying so. SIGTERM or SIGINT: the invocation in flight finishes, then the
watcher exits 0.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import datetime
import hashlib
import importlib.util
import os
import select
import signal
import struct
import sys
import time
import traceback
import urllib.parse
import uuid

RETRY_DELAYS = (1.0, 2.0)

# inotify(7)
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000
EVENT_HEADER = struct.Struct("iIII")


# MARK: - Which files are uploads


def is_candidate(name: str, suffix: str) -> bool:
    """The event notification's filter: no hidden or temporary files, and the suffix (empty: any name)."""
    return not name.startswith(".") and name.endswith(suffix)


class StableFiles:
    """Decides, from successive looks at a folder, which files are complete: a file whose size and modification
    time stayed the same for `settle` seconds and differ from when it was last announced. Pure: time is passed in.
    """

    def __init__(self, settle: float, existing: dict[str, tuple[int, int]]):
        self.settle = settle
        self.announced = dict(existing)
        self.seen: dict[str, tuple[tuple[int, int], float]] = {}

    def observe(self, now: float, states: dict[str, tuple[int, int]]) -> list[str]:
        ready = []
        for name, state in sorted(states.items()):
            if self.announced.get(name) == state:
                self.seen.pop(name, None)
                continue
            previous = self.seen.get(name)
            if previous is None or previous[0] != state:
                self.seen[name] = (state, now)
            elif now - previous[1] >= self.settle:
                ready.append(name)
                self.announced[name] = state
                del self.seen[name]
        for name in set(self.seen) - set(states):
            del self.seen[name]
        for name in set(self.announced) - set(states):
            del self.announced[name]
        return ready


def scan(folder: str, suffix: str) -> dict[str, tuple[int, int]]:
    states = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if not is_candidate(entry.name, suffix):
                continue
            try:
                if entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    states[entry.name] = (info.st_size, info.st_mtime_ns)
            except FileNotFoundError:
                continue
    return states


class InotifyUploads:
    """Complete files from inotify: IN_CLOSE_WRITE and IN_MOVED_TO on the folder."""

    def __init__(self, folder: str, suffix: str):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.folder, self.suffix = folder, suffix
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
            errno = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(errno, f"inotify_add_watch {folder} failed")
        self.known = scan(folder, suffix)

    def next(self, timeout: float) -> list[str]:
        readable, _, _ = select.select([self.fd], [], [], timeout)
        if not readable:
            return []
        try:
            buffer = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return []
        names, overflow, offset = [], False, 0
        while offset + EVENT_HEADER.size <= len(buffer):
            _, mask, _, length = EVENT_HEADER.unpack_from(buffer, offset)
            raw = buffer[offset + EVENT_HEADER.size:offset + EVENT_HEADER.size + length]
            offset += EVENT_HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                overflow = True
                continue
            name = os.fsdecode(raw.rstrip(b"\0"))
            if mask & IN_ISDIR or not is_candidate(name, self.suffix):
                continue
            if name not in names:
                names.append(name)
        current = scan(self.folder, self.suffix)
        if overflow:
            # The kernel dropped events: announce whatever changed since the last look.
            names += [n for n, state in current.items() if self.known.get(n) != state and n not in names]
        self.known = current
        return [n for n in names if n in current]

    def close(self) -> None:
        os.close(self.fd)


class PolledUploads:
    """Complete files by polling: a size and modification time that held still for `settle` seconds."""

    def __init__(self, folder: str, suffix: str, settle: float):
        self.folder, self.suffix = folder, suffix
        self.stable = StableFiles(settle, scan(folder, suffix))

    def next(self, timeout: float) -> list[str]:
        time.sleep(min(timeout, 0.1))
        return self.stable.observe(time.monotonic(), scan(self.folder, self.suffix))

    def close(self) -> None:
        pass


# MARK: - The S3 event and the invocation


def s3_put_event(bucket: str, key: str, size: int, etag: str, region: str, when: datetime.datetime) -> dict:
    """An S3 event notification for one PUT, as S3 sends it to Lambda (event structure version 2.1)."""
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:rill-kinesis-lab"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                             "x-amz-id-2": uuid.uuid4().hex},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "upload-event",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "rill-kinesis-lab"},
                       "arn": f"arn:aws:s3:::{bucket}"},
            # Keys are URL-encoded in S3 events.
            "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size, "eTag": etag,
                       "sequencer": f"{time.time_ns():018X}"},
        },
    }]}


class FunctionTimeout(Exception):
    pass


class Context:
    """The Lambda context object a handler receives."""

    def __init__(self, function_name: str, request_id: str, timeout: float, region: str):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{function_name}"
        self.memory_limit_in_mb = "128"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "rill-kinesis-lab"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(spec: str):
    path, _, function = spec.rpartition(":")
    if not path or not function:
        raise SystemExit(f"--handler must be FILE.py:FUNCTION, not {spec!r}")
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    module_spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, function)


def invoke(handler, event: dict, function_name: str, timeout: float, region: str) -> bool:
    """One invocation, logged as Lambda logs it; True when the function returned."""
    request_id = str(uuid.uuid4())
    print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
    started = time.monotonic()

    def expire(signum, frame):
        raise FunctionTimeout(f"Task timed out after {timeout:.2f} seconds")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    ok = True
    try:
        handler(event, Context(function_name, request_id, timeout, region))
    except Exception as error:
        ok = False
        print(f"[ERROR] {type(error).__name__}: {error}")
        traceback.print_exc(file=sys.stdout)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    print(f"END RequestId: {request_id}")
    print(f"REPORT RequestId: {request_id}\tDuration: {(time.monotonic() - started) * 1000:.2f} ms", flush=True)
    return ok


# MARK: - Main loop


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inbox", required=True, help="the folder standing in for the bucket")
    parser.add_argument("--bucket", default="kinesis-lab-inbox", help="the bucket name the events carry")
    parser.add_argument("--handler", required=True, help="FILE.py:FUNCTION, the function to invoke")
    parser.add_argument("--function-name", default=None, help="named in the context (default: the file's name)")
    parser.add_argument("--suffix", default=".txt", help="only names ending so are uploads ('' for any)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an invocation may run")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--poll", action="store_true", help="poll for stable files even where inotify exists")
    parser.add_argument("--settle", type=float, default=1.0, help="with polling: seconds a file must hold still")
    args = parser.parse_args(argv)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    handler = load_handler(args.handler)
    function_name = args.function_name or os.path.splitext(os.path.basename(args.handler.rpartition(":")[0]))[0]
    inbox = os.path.abspath(args.inbox)
    os.makedirs(inbox, exist_ok=True)
    if args.poll or not sys.platform.startswith("linux"):
        uploads, how = PolledUploads(inbox, args.suffix, args.settle), f"polling, {args.settle:g} s settle"
    else:
        uploads, how = InotifyUploads(inbox, args.suffix), "inotify"
    print(f"[watcher] watching {inbox} for *{args.suffix} ({how}); bucket {args.bucket}", flush=True)
    try:
        while not stopping:
            for name in uploads.next(timeout=0.2):
                if stopping:
                    break
                path = os.path.join(inbox, name)
                try:
                    with open(path, "rb") as file:
                        body = file.read()
                except FileNotFoundError:
                    continue  # gone before we looked: no object, no event
                event = s3_put_event(args.bucket, name, len(body), hashlib.md5(body).hexdigest(), args.region,
                                     datetime.datetime.now(datetime.timezone.utc))
                for delay in (0.0,) + RETRY_DELAYS:
                    if delay:
                        deadline = time.monotonic() + delay
                        while not stopping and time.monotonic() < deadline:
                            time.sleep(0.05)
                        if stopping:
                            print(f"[watcher] stopping: the retry of {name} is dropped", flush=True)
                            break
                    if invoke(handler, event, function_name, args.timeout, args.region):
                        break
                else:
                    print(f"[watcher] {name}: the function failed {1 + len(RETRY_DELAYS)} times; the event is "
                          "dropped, as Lambda drops it without an on-failure destination", flush=True)
    finally:
        uploads.close()
    print("[watcher] stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
