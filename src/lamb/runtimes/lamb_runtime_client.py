"""Written by Lamb (lamb/runtimes/python.py): the Runtime API transport of awslambdaric.

awslambdaric reaches the Runtime API through its native module ``runtime_client`` (aws-lambda-cpp
over libcurl): ``next()`` waits with the GIL released, ``post_invocation_result()`` and
``post_error()`` block (holding the GIL) until the Runtime API's answer. This module has the native
module's interface and behaviour (the same request bytes, results, exceptions and their messages,
and the lines aws-lambda-cpp prints to standard output) on one keep-alive socket: a post is not
sent on its own but with the ``next`` that follows it, in one write, and its answer is read before
that ``next``'s. When awslambdaric polls ``next`` from a new thread (python3.12+, so that the main
thread handles signals), the post leaves at once instead, not after that thread's start; its answer
is still read by the ``next``. A post the Runtime API refused (a response over the size limit) is logged as
aws-lambda-cpp logs it, but not raised: the native module's RuntimeError would end the runtime, and
the event of the ``next`` sent with the post would be lost with it.

The zygote (runtimes/zygote.py) puts it in ``sys.modules["runtime_client"]`` before awslambdaric
imports it (and so does ``lamb serve --debug``'s boot). Runs on every Python of the managed runtimes
(3.9+), standard library only.
"""

import os
import socket
import sys
import threading
import time

PREFIX = "/2018-06-01/runtime/invocation/"
_client = None


def _log_error(message):
    # aws-lambda-cpp's logging::log_error: printf to standard output, flushed.
    sys.stdout.write("[ERROR] [%d] LAMBDA_RUNTIME %s\n" % (int(time.time() * 1000), message))
    sys.stdout.flush()


class _Failed(Exception):
    """No answer from the endpoint (curl's REQUEST_NOT_MADE)."""


class _Client:
    def __init__(self, endpoint, user_agent):
        host, _, port = endpoint.rpartition(":")
        self.address = (host or endpoint, int(port) if port.isdigit() else 80)
        self.host = endpoint.encode("latin-1", "replace")
        self.agent = user_agent.encode("utf-8", "surrogateescape")
        self.next_request = b"GET " + PREFIX.encode() + b"next HTTP/1.1\r\nHost: " + self.host + \
            b"\r\nAccept: */*\r\nUser-Agent: " + self.agent + b"\r\n\r\n"
        self.sock = None
        self.pid = 0
        self.served = 0  # answers read on this connection
        self.buf = b""
        self.posts = []  # (request bytes, message on failure) not yet sent
        self.sent = []  # posts sent, their answers not read yet
        self.threaded = False  # the last next() came from a thread that is not the main one
        self.lock = threading.Lock()

    # -- the connection
    def _connect(self):
        self.sock = socket.create_connection(self.address, timeout=1)  # curl's CONNECTTIMEOUT
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pid = os.getpid()
        self.served = 0
        self.buf = b""

    def _drop(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def _answer(self):
        """(status, headers as [(lowercase name, value)], body) of the next answer on the connection."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        try:
            status = int(lines[0].split(None, 2)[1])
        except (IndexError, ValueError):
            raise _Failed()
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if colon:
                headers.append((name.strip().lower().decode("latin-1"), value.strip()))
        fields = dict(headers)
        if b"chunked" in fields.get("transfer-encoding", b"").lower():
            body = self._chunked()
        else:
            try:
                length = int(fields.get("content-length", b"0"))
            except ValueError:
                raise _Failed()
            while len(self.buf) < length:
                self._fill()
            body, self.buf = self.buf[:length], self.buf[length:]
        self.served += 1
        if fields.get("connection", b"").lower() == b"close":
            self._drop()
        return status, headers, body

    def _chunked(self):
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            size_line, _, self.buf = self.buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self.buf) < size + 2:
                self._fill()
            body += self.buf[:size]
            self.buf = self.buf[size + 2:]
            if size == 0:
                return body

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise _Failed()
        self.buf += data

    def _exchange(self, sent, requests):
        """Send ``requests`` in one write and read the answers of ``sent`` (written before on this
        connection) and of them, in order. As curl does, requests on a connection that had answered
        before (the server may have closed it meanwhile) are sent once more on a new one."""
        for attempt in (0, 1):
            if self.sock is None or self.pid != os.getpid():  # a fork must not share its parent's socket
                self.sock = None
                if sent:  # written on a connection that is gone: written again
                    requests, sent = sent + requests, []
                try:
                    self._connect()
                except OSError:
                    raise _Failed()
            reused = self.served > 0
            answers = []
            try:
                self.sock.sendall(b"".join(requests))
                for _ in range(len(sent) + len(requests)):
                    answers.append(self._answer())
                return answers
            except (_Failed, OSError):
                self._drop()
                if not reused or attempt or answers:
                    raise _Failed()
                requests, sent = sent + requests, []
            except BaseException:  # a signal handler raised while waiting: the connection is in an unknown state
                self._drop()
                raise
        raise _Failed()

    # -- the native module's calls
    def next(self):
        with self.lock:
            # awslambdaric calls next() from a new thread on python3.12+: a post then leaves at once
            # (see ``post``); on the thread that posted, it leaves with this request.
            self.threaded = threading.current_thread() is not threading.main_thread()
            posts, self.posts = self.sent + self.posts, []
            sent, self.sent = self.sent, []
            try:
                answers = self._exchange([p for p, _ in sent], [p for p, _ in posts[len(sent):]] + [self.next_request])
            except _Failed:
                if posts:
                    raise RuntimeError(posts[0][1])
                _log_error("Failed to get next invocation. No Response from endpoint")
                raise RuntimeError("Failed to get next")
            for status, _, body in answers[:-1]:
                if not 200 <= status <= 299:
                    # Logged as aws-lambda-cpp does; not raised: the event behind it is here already,
                    # and the runtime goes on to it (the native module raises from the post).
                    _log_error("Failed to post handler success response. Http response code: %d. %s"
                               % (status, body.split(b"\0")[0].decode("utf-8", "replace")))
            status, headers, body = answers[-1]
        if not 200 <= status <= 299:
            _log_error("Failed to get next invocation. Http Response code: %d" % status)
            raise RuntimeError("Failed to get next")
        fields = {}
        for name, value in headers:
            fields[name] = value.split(b"\0")[0].decode("utf-8")  # the native module hands over C strings
        if "lambda-runtime-aws-request-id" not in fields:
            _log_error("Failed to find header lambda-runtime-aws-request-id in response")
            raise RuntimeError("Failed to get next")
        deadline = fields.get("lambda-runtime-deadline-ms", "").strip()
        digits = len(deadline) - len(deadline.lstrip("0123456789"))
        return body, {
            "Lambda-Runtime-Aws-Request-Id": fields["lambda-runtime-aws-request-id"],
            "Lambda-Runtime-Trace-Id": fields.get("lambda-runtime-trace-id") or None,
            "Lambda-Runtime-Invoked-Function-Arn": fields.get("lambda-runtime-invoked-function-arn", ""),
            "Lambda-Runtime-Deadline-Ms": int(deadline[:digits]) if digits else 0,
            "Lambda-Runtime-Client-Context": fields.get("lambda-runtime-client-context") or None,
            "Content-Type": fields.get("content-type") or None,
            "Lambda-Runtime-Cognito-Identity": fields.get("lambda-runtime-cognito-identity") or None,
            "Lambda-Runtime-Aws-Tenant-Id": fields.get("lambda-runtime-aws-tenant-id") or None,
            "Lambda-Runtime-Invocation-Id": fields.get("lambda-runtime-invocation-id") or None,
        }

    def post(self, path, payload, content_type, xray, invocation_id, failure):
        head = b"POST " + path + b" HTTP/1.1\r\nHost: " + self.host + b"\r\nAccept: */*\r\ncontent-type: " + \
            (content_type or b"text/html") + b"\r\n"
        if xray:
            head += b"lambda-runtime-function-xray-error-cause: " + xray + b"\r\n"
        head += b"User-Agent: " + self.agent + b"\r\n"
        if invocation_id:
            head += b"lambda-runtime-invocation-id: " + invocation_id + b"\r\n"
        head += b"content-length: %d\r\n\r\n" % len(payload)
        with self.lock:
            if self.threaded and self.sock is not None and self.pid == os.getpid() and not self.posts:
                # The next() behind this post will come from a thread still to be started: the post
                # leaves now rather than after that start. Its answer is read by that next().
                try:
                    self.sock.sendall(head + payload)
                    self.sent.append((head + payload, failure))
                    return
                except OSError:
                    self._drop()
            self.posts.append((head + payload, failure))


def _cstr(value):
    """A ``s``/``z`` argument as PyArg_ParseTuple takes it: str without NUL, as UTF-8."""
    if not isinstance(value, str) or "\0" in value:
        raise RuntimeError("Wrong arguments")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise RuntimeError("Wrong arguments")


def _initialized():
    if _client is None:
        raise RuntimeError("Client not yet initalized")
    return _client


def initialize_client(*args):
    global _client
    if len(args) != 1 or not isinstance(args[0], str) or "\0" in args[0]:
        raise RuntimeError("Wrong arguments")
    # The native module reads the address when it is loaded, which is when awslambdaric imports it and
    # calls this; the zygote loads this module earlier, before the address is known.
    _client = _Client(os.environ.get("AWS_LAMBDA_RUNTIME_API") or "127.0.0.1:9001", args[0])


def next(*args):
    if args:
        raise TypeError("runtime.next() takes no arguments (%d given)" % len(args))
    return _initialized().next()


def post_invocation_result(*args):
    client = _initialized()
    if len(args) != 4 or not isinstance(args[1], bytes):
        raise RuntimeError("Wrong arguments")
    request_id, payload, content_type = _cstr(args[0]), args[1], _cstr(args[2])
    invocation_id = None if args[3] is None else _cstr(args[3])
    client.post(PREFIX.encode() + request_id + b"/response", payload, content_type, b"", invocation_id,
                "Failed to post invocation response")


def post_error(*args):
    client = _initialized()
    if len(args) != 4:
        raise RuntimeError("Wrong arguments")
    request_id, payload, xray = _cstr(args[0]), _cstr(args[1]), _cstr(args[2])
    invocation_id = None if args[3] is None else _cstr(args[3])
    client.post(PREFIX.encode() + request_id + b"/error", payload, b"application/json", xray, invocation_id,
                "Failed to post invocation error")


def install():
    """Be ``runtime_client`` for awslambdaric (before it is imported)."""
    sys.modules["runtime_client"] = sys.modules[__name__]

