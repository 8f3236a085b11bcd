// AWS Signature Version 4 for the console, on the Web Crypto API (browsers' secure contexts, Node 20+).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

const enc = new TextEncoder();

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function sha256Hex(data) {
  return hex(await crypto.subtle.digest("SHA-256", typeof data === "string" ? enc.encode(data) : data));
}

async function hmac(key, data) {
  const raw = typeof key === "string" ? enc.encode(key) : key;
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, enc.encode(data));
}

// RFC 3986 unreserved characters stay; everything else is percent-encoded (as botocore's quote(safe="-_.~")).
export function uriEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

export function amzDate(now) {
  return now.toISOString().replace(/[:-]|\.\d{3}/g, "");
}

// The headers to send (Host is the URL's: a browser sets it itself).
export async function sign({ method, url, headers = {}, body = "", service, region, credentials, now = new Date() }) {
  const u = new URL(url);
  const stamp = amzDate(now);
  const day = stamp.slice(0, 8);
  const out = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = String(v);
  out["x-amz-date"] = stamp;
  if (credentials.sessionToken) out["x-amz-security-token"] = credentials.sessionToken;
  const all = { ...out, host: u.host };
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((n) => `${n}:${all[n].trim().replace(/\s+/g, " ")}\n`).join("");
  // Services other than S3 encode the (already encoded) path once more, segment by segment.
  const path = u.pathname.split("/").map(uriEncode).join("/") || "/";
  const query = [...u.searchParams]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [method, path, query, canonicalHeaders, names.join(";"), await sha256Hex(body)].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", stamp, scope, await sha256Hex(canonical)].join("\n");
  let key = await hmac("AWS4" + credentials.secretAccessKey, day);
  for (const part of [region, service, "aws4_request"]) key = await hmac(key, part);
  const signature = hex(await hmac(key, toSign));
  out.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return out;
}
