// One request of each kind through the official Node SDKs, for scripts/record_fixtures.ts (run by it inside
// `unshare -n` with HTTPS_PROXY at the gateway). The SDKs come from RECONDO_SDK_DIR (installed there by
// record_fixtures.ts). On Node 20 they ignore HTTPS_PROXY: undici's EnvHttpProxyAgent is set process-wide.
"use strict";
const { createRequire } = require("node:module");
const sdk = createRequire(require("node:path").join(process.env.RECONDO_SDK_DIR, "package.json"));
const { setGlobalDispatcher, EnvHttpProxyAgent } = sdk("undici");
setGlobalDispatcher(new EnvHttpProxyAgent());
const Anthropic = sdk("@anthropic-ai/sdk").default;
const OpenAI = sdk("openai").default;
const { GoogleGenAI } = sdk("@google/genai");

async function main() {
  const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });
  const ask = { model: "claude-sonnet-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] };
  const message = await anthropic.messages.create(ask);
  console.log("anthropic:", message.content.map((b) => b.text).join(""));
  let text = "";
  for await (const event of await anthropic.messages.create({ ...ask, stream: true })) {
    if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
  }
  console.log("anthropic stream:", text);

  const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });
  const response = await openai.responses.create({ model: "gpt-5", input: "hi" });
  console.log("responses:", response.output_text);
  text = "";
  for await (const event of await openai.responses.create({ model: "gpt-5", input: "hi", stream: true })) {
    if (event.type === "response.output_text.delta") text += event.delta;
  }
  console.log("responses stream:", text);
  text = "";
  const chat = await openai.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of chat) text += chunk.choices[0]?.delta?.content ?? "";
  console.log("chat stream:", text);

  const genai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY });
  text = "";
  for await (
    const chunk of await genai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "hi" })
  ) {
    text += chunk.text ?? "";
  }
  console.log("genai stream:", text);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
