// Node 20's fetch ignores HTTPS_PROXY: route every request of the process through it, as CLIENTS.md
// ("Official SDKs") describes. Loaded with `node --require`; `undici` resolves through NODE_PATH.
const { EnvHttpProxyAgent, setGlobalDispatcher } = require("undici");
setGlobalDispatcher(new EnvHttpProxyAgent());
