// The console's client of Lamb's public APIs: Lambda (REST JSON) and CloudWatch Logs (JSON 1.1),
// the same operations and shapes boto3 uses. Every request is SigV4-signed with the user's key.
import { sign } from "./sigv4.js";
import { makeZip, toBase64 } from "./zip.js";

const LAMBDA = "/2015-03-31/functions";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

const fn = (name) => encodeURIComponent(name);

export class Lamb {
  constructor({ endpoint, region, credentials }) {
    this.endpoint = endpoint.replace(/\/$/, "");
    this.region = region;
    this.credentials = credentials;
  }

  async request(service, method, path, { body = "", headers = {}, region = this.region } = {}) {
    const url = this.endpoint + path;
    const signed = await sign({ method, url, headers, body, service, region, credentials: this.credentials });
    const resp = await fetch(url, { method, headers: signed, body: method === "GET" ? undefined : body });
    const text = await resp.text();
    if (resp.status >= 400) {
      let doc = {};
      try { doc = JSON.parse(text); } catch { /* not JSON */ }
      const code = resp.headers.get("x-amzn-errortype")?.split(":")[0] || (doc.__type || "").split("#").pop() || `HTTP ${resp.status}`;
      throw new ApiError(resp.status, code, doc.message || doc.Message || text);
    }
    return { resp, text };
  }

  async lambda(method, path, body) {
    const { text } = await this.request("lambda", method, path,
      body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    return text ? JSON.parse(text) : {};
  }

  async logs(operation, body) {
    const { text } = await this.request("logs", "POST", "/", {
      body: JSON.stringify(body),
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `Logs_20140328.${operation}` },
    });
    return JSON.parse(text);
  }

  // CloudWatch's JSON protocol (one of the three the metric API speaks; signing name "monitoring").
  async cloudwatch(operation, body) {
    const { text } = await this.request("monitoring", "POST", "/", {
      body: JSON.stringify(body),
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `GraniteServiceVersion20100801.${operation}` },
    });
    return JSON.parse(text);
  }

  // The function's AWS/Lambda metrics for the last ``minutes``, one value per ``period`` seconds.
  async functionMetrics(name, minutes = 60, period = 60) {
    const end = Math.floor(Date.now() / 1000 / period) * period + period;
    const queries = [["invocations", "Invocations", "Sum"], ["errors", "Errors", "Sum"],
      ["throttles", "Throttles", "Sum"], ["duration", "Duration", "Average"]].map(([Id, MetricName, Stat]) => ({
      Id, MetricStat: { Metric: { Namespace: "AWS/Lambda", MetricName, Dimensions: [{ Name: "FunctionName", Value: name }] },
        Period: period, Stat },
    }));
    const out = await this.cloudwatch("GetMetricData", {
      MetricDataQueries: queries, StartTime: end - minutes * 60, EndTime: end, ScanBy: "TimestampAscending",
    });
    const series = {};
    for (const r of out.MetricDataResults) {
      series[r.Id] = r.Timestamps.map((t, i) => [typeof t === "number" ? t * 1000 : Date.parse(t), r.Values[i]]);
    }
    return series;
  }

  // IAM (query protocol, global: signed for us-east-1): the roles a function can be given.
  async listRoles() {
    const arns = [];
    let marker;
    do {
      const form = new URLSearchParams({ Action: "ListRoles", Version: "2010-05-08", MaxItems: "100", ...(marker ? { Marker: marker } : {}) });
      const { text } = await this.request("iam", "POST", "/", {
        body: form.toString(), region: "us-east-1",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      });
      arns.push(...[...text.matchAll(/<Arn>([^<]*)<\/Arn>/g)].map((m) => m[1]));
      marker = /<IsTruncated>true<\/IsTruncated>/.test(text) ? (text.match(/<Marker>([^<]*)<\/Marker>/) || [])[1] : undefined;
    } while (marker);
    return arns;
  }

  async listFunctions() {
    const out = [];
    let marker;
    do {
      const page = await this.lambda("GET", `${LAMBDA}/?MaxItems=50${marker ? `&Marker=${encodeURIComponent(marker)}` : ""}`);
      out.push(...page.Functions);
      marker = page.NextMarker;
    } while (marker);
    return out;
  }

  getFunction(name) { return this.lambda("GET", `${LAMBDA}/${fn(name)}`); }

  async listVersions(name) { return (await this.lambda("GET", `${LAMBDA}/${fn(name)}/versions`)).Versions; }

  async listAliases(name) { return (await this.lambda("GET", `${LAMBDA}/${fn(name)}/aliases`)).Aliases; }

  async functionUrl(name) {
    try {
      return await this.lambda("GET", `/2021-10-31/functions/${fn(name)}/url`);
    } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }

  // CreateFunction from the files of a package made in the page ({ "app.py": source, ... }).
  createFunction({ name, runtime, handler, role, memory, timeout, description, files, executable }) {
    return this.lambda("POST", LAMBDA, {
      FunctionName: name, Runtime: runtime, Handler: handler, Role: role,
      Code: { ZipFile: toBase64(makeZip(files, { executable })) },
      ...(memory ? { MemorySize: Number(memory) } : {}), ...(timeout ? { Timeout: Number(timeout) } : {}),
      ...(description ? { Description: description } : {}),
    });
  }

  // UpdateFunctionCode with a zip's bytes, or with files made into one.
  updateCode(name, { zip, files, executable }) {
    return this.lambda("PUT", `${LAMBDA}/${fn(name)}/code`, { ZipFile: toBase64(zip || makeZip(files, { executable })) });
  }

  // The configuration once the function is neither being created nor updated (what boto3's
  // function_active_v2 / function_updated_v2 waiters wait for), polled every ``delay`` ms.
  async settled(name, { timeout = 60000, delay = 500 } = {}) {
    const until = Date.now() + timeout;
    for (;;) {
      const c = await this.lambda("GET", `${LAMBDA}/${fn(name)}/configuration`);
      if (c.State !== "Pending" && c.LastUpdateStatus !== "InProgress") return c;
      if (Date.now() > until) throw new ApiError(0, "Timeout", `${name} is still ${c.State}/${c.LastUpdateStatus}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  // UpdateFunctionConfiguration: only the members given are changed.
  updateConfiguration(name, changes) { return this.lambda("PUT", `${LAMBDA}/${fn(name)}/configuration`, changes); }

  publishVersion(name, description) {
    return this.lambda("POST", `${LAMBDA}/${fn(name)}/versions`, description ? { Description: description } : {});
  }

  deleteFunction(name) { return this.lambda("DELETE", `${LAMBDA}/${fn(name)}`); }

  // What reaches the function besides Invoke: its URL, its event source mappings and who may
  // invoke it (the resource-based policy's statements).
  async triggers(name) {
    const mappings = [];
    let marker;
    do {
      const page = await this.lambda("GET", `/2015-03-31/event-source-mappings/?FunctionName=${fn(name)}&MaxItems=100` +
        (marker ? `&Marker=${encodeURIComponent(marker)}` : ""));
      mappings.push(...page.EventSourceMappings);
      marker = page.NextMarker;
    } while (marker);
    let statements = [];
    try {
      statements = JSON.parse((await this.lambda("GET", `${LAMBDA}/${fn(name)}/policy`)).Policy).Statement;
    } catch (e) {
      if (e.status !== 404) throw e;
    }
    return { url: await this.functionUrl(name), mappings, statements };
  }

  // Invoke with LogType Tail: the answer, whether it is a function error, and the last 4 KB of log.
  async invoke(name, payload, qualifier) {
    const q = qualifier ? `?Qualifier=${encodeURIComponent(qualifier)}` : "";
    const { resp, text } = await this.request("lambda", "POST", `${LAMBDA}/${fn(name)}/invocations${q}`, {
      body: payload, headers: { "content-type": "application/json", "x-amz-log-type": "Tail" },
    });
    const tail = resp.headers.get("x-amz-log-result");
    return {
      status: resp.status,
      functionError: resp.headers.get("x-amz-function-error"),
      executedVersion: resp.headers.get("x-amz-executed-version"),
      payload: text,
      log: tail ? new TextDecoder().decode(Uint8Array.from(atob(tail), (c) => c.charCodeAt(0))) : "",
    };
  }

  // The function's most recent log events (its LoggingConfig.LogGroup, else /aws/lambda/NAME).
  async recentLogs(config, minutes = 60, limit = 200) {
    const group = config.LoggingConfig?.LogGroup || `/aws/lambda/${config.FunctionName}`;
    const events = [];
    let nextToken;
    try {
      for (let page = 0; page < 10; page++) {  // oldest first: read forward, keep the newest ``limit``
        const out = await this.logs("FilterLogEvents", {
          logGroupName: group, startTime: Date.now() - minutes * 60000, limit, ...(nextToken ? { nextToken } : {}),
        });
        events.push(...out.events);
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
      return { group, events: events.slice(-limit) };
    } catch (e) {
      if (e.code === "ResourceNotFoundException") return { group, events: [] };
      throw e;
    }
  }
}
