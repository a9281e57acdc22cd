// The official `openai` SDK against OpenRouter, as an application would call it: one streamed Chat
// Completion (usage included), then one Responses call. Prints each answer on its own line; on an API
// error prints the SDK's message to stderr and exits 1. Base URL and key come from the environment
// (OPENROUTER_BASE_URL, default https://openrouter.ai/api/v1; OPENROUTER_API_KEY).
const OpenAI = require("openai");

async function main() {
  const client = new OpenAI({
    baseURL: process.env.OPENROUTER_BASE_URL || "https://openrouter.ai/api/v1",
    apiKey: process.env.OPENROUTER_API_KEY,
    maxRetries: 0,
  });
  const prompt = process.argv[2] || "Reply with the single word OK.";
  const stream = await client.chat.completions.create({
    model: "anthropic/claude-sonnet-4.5",
    messages: [{ role: "user", content: prompt }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  console.log(`chat: ${text}`);
  const response = await client.responses.create({ model: "openai/gpt-5", input: prompt });
  console.log(`responses: ${response.output_text}`);
}

main().catch((error) => {
  console.error(`openai sdk error: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
