// Drives the web console's own API client (src/lamb/console/static/api.js) from Node, as the page
// does from a browser: node console_client.mjs STATIC_DIR ENDPOINT KEY SECRET REGION FUNCTION [STEP [ARGS_JSON]]
//   read (the default): list, show, invoke twice, logs, metrics
//   create: ARGS {role, runtime}: create from files, invoke, edit configuration and code, invoke, publish
//   triggers: the function's URL, event source mappings and policy statements
//   delete: delete the function, then look it up again
const [dir, endpoint, accessKeyId, secretAccessKey, region, name, step = "read", argsJson = "{}"] = process.argv.slice(2);
const args = JSON.parse(argsJson);
const { Lamb } = await import(`${dir}/api.js`);
const lamb = new Lamb({ endpoint, region, credentials: { accessKeyId, secretAccessKey } });
const out = {};
const V1 = "import os\n\ndef handler(event, context):\n    return {'v': 1, 'n': event.get('n')}\n";
const V2 = "import os\n\ndef handler(event, context):\n    return {'v': 2, 'greeting': os.environ.get('GREETING'), 'n': event.get('n')}\n";
try {
  if (step === "read") {
    out.functions = (await lamb.listFunctions()).map((f) => f.FunctionName);
    out.config = (await lamb.getFunction(name)).Configuration;
    out.versions = (await lamb.listVersions(name)).map((v) => v.Version);
    out.aliases = (await lamb.listAliases(name)).map((a) => a.Name);
    out.url = await lamb.functionUrl(name);
    out.invoke = await lamb.invoke(name, JSON.stringify({ hello: "console" }));
    out.invokeV1 = await lamb.invoke(name, "{}", "1");
    out.logs = await lamb.recentLogs(out.config);
    out.metrics = await lamb.functionMetrics(name);
  } else if (step === "create") {
    out.roles = await lamb.listRoles();
    out.created = await lamb.createFunction({ name, runtime: args.runtime, handler: "app.handler", role: args.role,
      memory: 256, timeout: 5, description: "made in the console", files: { "app.py": V1 } });
    out.active = await lamb.settled(name);
    out.invoke1 = await lamb.invoke(name, JSON.stringify({ n: 1 }));
    out.updated = await lamb.updateConfiguration(name, { MemorySize: 512, Timeout: 7, Environment: { Variables: { GREETING: "hi" } } });
    await lamb.settled(name);
    out.code = await lamb.updateCode(name, { files: { "app.py": V2 } });
    out.afterCode = await lamb.settled(name);
    out.invoke2 = await lamb.invoke(name, JSON.stringify({ n: 2 }));
    out.version = await lamb.publishVersion(name, "published in the console");
  } else if (step === "triggers") {
    out.triggers = await lamb.triggers(name);
  } else if (step === "delete") {
    out.deleted = await lamb.deleteFunction(name);
    try {
      await lamb.getFunction(name);
    } catch (e) {
      out.afterDelete = { status: e.status, code: e.code };
    }
  }
} catch (e) {
  out.error = { status: e.status, code: e.code, message: e.message };
}
console.log(JSON.stringify(out));
