// Written by Lamb (lamb/runtimes/node.py): the Runtime API transport of aws-lambda-ric 3.x.
//
// aws-lambda-ric 3.x talks to the Runtime API through its native addon (rapid-client.node:
// aws-lambda-cpp over libcurl): `next()` waits on a libuv worker thread and hands the event to
// the JavaScript thread, and `done()`/`error()` block the JavaScript thread until the answer.
// This module has the addon's interface and behaviour (same requests, same headers, same
// results and errors, answers to posts ignored as the addon ignores them) on one keep-alive
// socket of the JavaScript thread: a post and the `next` that follows it leave in one write,
// and the event arrives on the thread that runs the handler, without a worker thread between.
"use strict";

const net = require("node:net");

const ENDPOINT = process.env.AWS_LAMBDA_RUNTIME_API || "";
const COLON = ENDPOINT.lastIndexOf(":");
const HOST = (COLON > 0 ? ENDPOINT.slice(0, COLON) : ENDPOINT).replace(/^\[(.*)\]$/, "$1"); // [::1]:9001
const PORT = COLON > 0 ? parseInt(ENDPOINT.slice(COLON + 1), 10) : 80;
const PREFIX = "/2018-06-01/runtime/invocation/";
const AGENT = "AWS_Lambda_Cpp/0.2.8"; // what the addon's aws-lambda-cpp sends
const HEAD_END = Buffer.from("\r\n\r\n");
const NEXT_REQUEST = Buffer.from(
  `GET ${PREFIX}next HTTP/1.1\r\nHost: ${ENDPOINT}\r\nAccept: */*\r\nUser-Agent: ${AGENT}\r\n\r\n`, "latin1");

function logError(message) {
  // aws-lambda-cpp's logging::log_error, as the addon writes it to standard error.
  process.stderr.write(`[ERROR] [${Date.now()}] LAMBDA_RUNTIME ${message}\n`);
}

let socket = null; // the connection, or null until the next request
let served = 0; // answers read on the current connection (curl retries a reused one once)
const pending = []; // requests written and not answered: {bytes, onAnswer, onFail, retried}
let outgoing = []; // requests not yet written
let input = null; // bytes read and not yet parsed

function connect() {
  socket = net.createConnection({ host: HOST, port: PORT });
  socket.setNoDelay(true);
  served = 0;
  input = null;
  const mine = socket;
  mine.on("data", (chunk) => { if (socket === mine) received(chunk); });
  mine.on("error", () => {});
  mine.on("close", () => { if (socket === mine) lost(); });
}

function hold() {
  // The socket keeps node running only while an answer is awaited, as the addon's worker does for
  // `next()`: an idle connection must not stop the loop from emptying (callback handlers post their
  // result on `beforeExit` when callbackWaitsForEmptyEventLoop is true).
  if (socket === null) return;
  if (pending.length) socket.ref();
  else socket.unref();
}

function flush() {
  if (outgoing.length === 0) return;
  if (socket === null) connect();
  const batch = outgoing;
  outgoing = [];
  for (const r of batch) pending.push(r);
  socket.write(batch.length === 1 ? batch[0].bytes : Buffer.concat(batch.map((r) => r.bytes)));
  hold();
}

function lost() {
  // The connection ended with requests unanswered: as curl does, a request on a connection that
  // had answered before is sent once more on a new one; otherwise it has failed.
  const reused = served > 0;
  socket = null;
  input = null;
  const unanswered = pending.splice(0);
  const again = [];
  for (const r of unanswered) {
    if (reused && !r.retried) {
      r.retried = true;
      again.push(r);
    } else {
      r.onFail();
    }
  }
  if (again.length) {
    outgoing = again.concat(outgoing);
    flush();
  }
}

function received(chunk) {
  input = input === null ? chunk : Buffer.concat([input, chunk]);
  for (;;) {
    const end = input.indexOf(HEAD_END);
    if (end < 0) return;
    const lines = input.toString("latin1", 0, end).split("\r\n");
    const status = parseInt(lines[0].split(" ")[1], 10);
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
    }
    const length = parseInt(headers["content-length"] || "0", 10);
    if (headers["transfer-encoding"] || !(length >= 0)) {
      socket.destroy(); // not what Lamb's Runtime API sends
      return;
    }
    const start = end + 4;
    if (input.length < start + length) return;
    const body = input.subarray(start, start + length);
    input = input.length === start + length ? null : input.subarray(start + length);
    served++;
    const r = pending.shift();
    if (r !== undefined) r.onAnswer(status, headers, body);
    hold();
    if (input === null) return;
  }
}

function next() {
  return new Promise((resolve, reject) => {
    const fail = (code) => reject(new Error(`Failed to get next invocation, error ${code}`));
    outgoing.push({
      bytes: NEXT_REQUEST,
      retried: false,
      onFail() {
        logError(`Failed to get next invocation. No Response from endpoint "${ENDPOINT}${PREFIX}next"`);
        fail(-1);
      },
      onAnswer(status, headers, body) {
        if (status < 200 || status > 299) {
          logError(`Failed to get next invocation. Http Response code: ${status}`);
          return fail(status);
        }
        const id = headers["lambda-runtime-aws-request-id"];
        if (id === undefined) {
          logError("Failed to find header lambda-runtime-aws-request-id in response");
          return fail(-1);
        }
        let text = body.toString("utf8");
        const nul = text.indexOf("\0"); // the addon hands over a C string
        if (nul >= 0) text = text.slice(0, nul);
        const out = {
          "lambda-runtime-deadline-ms": headers["lambda-runtime-deadline-ms"] === undefined
            ? 0 : (parseInt(headers["lambda-runtime-deadline-ms"], 10) || 0),
          "lambda-runtime-aws-request-id": id,
          "lambda-runtime-trace-id": headers["lambda-runtime-trace-id"] || "",
          "lambda-runtime-invoked-function-arn": headers["lambda-runtime-invoked-function-arn"] || "",
        };
        for (const optional of ["lambda-runtime-client-context", "lambda-runtime-cognito-identity",
          "lambda-runtime-aws-tenant-id"]) {
          if (headers[optional]) out[optional] = headers[optional];
        }
        // Resolved from the check phase, where nothing else is queued, so that the runtime's
        // continuation runs from the loop as the addon's does (stack traces show the same frames).
        setImmediate(resolve, { bodyJson: text, headers: out });
      },
    });
    flush();
  });
}

function post(path, body, extra) {
  const payload = Buffer.from(body, "utf8");
  const head = `POST ${path} HTTP/1.1\r\nHost: ${ENDPOINT}\r\nAccept: */*\r\ncontent-type: application/json\r\n` +
    `${extra}User-Agent: ${AGENT}\r\ncontent-length: ${payload.length}\r\n\r\n`;
  outgoing.push({
    bytes: Buffer.concat([Buffer.from(head, "utf8"), payload]),
    retried: false,
    onFail() {},
    onAnswer(status) {
      if (status < 200 || status > 299) {
        logError(`Failed to post handler success response. Http response code: ${status}.`);
      }
    },
  });
  // The runtime asks for its next invocation right after a post (a setImmediate later): both
  // leave in one write. Should it not, the post leaves on the loop's next turn.
  setImmediate(() => setImmediate(flush));
}

function checked(args, count) {
  if (args.length < count) throw new TypeError(`Wrong number of arguments, expected ${count}`);
  for (let i = 0; i < count; i++) if (typeof args[i] !== "string") throw new TypeError("Wrong arguments");
}

module.exports = {
  next,
  done(...args) {
    checked(args, 2);
    post(`${PREFIX}${args[0]}/response`, args[1], "");
    return null;
  },
  error(...args) {
    checked(args, 3);
    const xray = args[2] ? `lambda-runtime-function-xray-error-cause: ${args[2]}\r\n` : "";
    post(`${PREFIX}${args[0]}/error`, args[1], xray);
    return null;
  },
};
