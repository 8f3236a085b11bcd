// Drives the web console's own API client (src/lamb/console/static/api.js) from Node, as the page
// does from a browser: node console_client.mjs STATIC_DIR ENDPOINT KEY SECRET REGION FUNCTION
const [dir, endpoint, accessKeyId, secretAccessKey, region, name] = process.argv.slice(2);
const { Lamb } = await import(`${dir}/api.js`);
const lamb = new Lamb({ endpoint, region, credentials: { accessKeyId, secretAccessKey } });
const out = {};
try {
  out.functions = (await lamb.listFunctions()).map((f) => f.FunctionName);
  out.config = (await lamb.getFunction(name)).Configuration;
  out.versions = (await lamb.listVersions(name)).map((v) => v.Version);
  out.aliases = (await lamb.listAliases(name)).map((a) => a.Name);
  out.url = await lamb.functionUrl(name);
  out.invoke = await lamb.invoke(name, JSON.stringify({ hello: "console" }));
  out.invokeV1 = await lamb.invoke(name, "{}", "1");
  out.logs = await lamb.recentLogs(out.config);
  out.metrics = await lamb.functionMetrics(name);
} catch (e) {
  out.error = { status: e.status, code: e.code, message: e.message };
}
console.log(JSON.stringify(out));
