import assert from "node:assert/strict";
import { startFakeProvider } from "./mod.ts";
import { makeTestCertificate } from "./tls.ts";

interface ParsedEvent {
  event?: string;
  data: string;
}

/** A deliberately independent SSE parser (any of LF/CRLF line endings). */
function parseSse(text: string): ParsedEvent[] {
  return text.split(/\r\n\r\n|\n\n/).filter((block) => block.trim() !== "").map((block) => {
    const parsed: ParsedEvent = { data: "" };
    for (const line of block.split(/\r\n|\n/)) {
      if (line.startsWith("event: ")) parsed.event = line.slice(7);
      if (line.startsWith("data: ")) parsed.data += line.slice(6);
    }
    return parsed;
  });
}

function post(url: string, body: unknown, headers: HeadersInit = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test("anthropic stream carries the answer in deltas and the configured usage in message_delta", async () => {
  const fake = await startFakeProvider({
    behavior: { answer: ["Hel", "lo"], usage: { input: 100, output: 9, cacheRead: 4 } },
  });
  try {
    const res = await post(`${fake.url}/v1/messages?beta=true`, { model: "claude-x", stream: true }, {
      "x-api-key": "sk-ant-test",
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = parseSse(await res.text());
    assert.deepEqual(events.map((e) => e.event), [
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) assert.equal(JSON.parse(e.data).type, e.event);
    const start = JSON.parse(events[0].data);
    assert.equal(start.message.model, "claude-x");
    assert.equal(start.message.usage.input_tokens, 100);
    assert.equal(start.message.usage.cache_read_input_tokens, 4);
    const text = events.filter((e) => e.event === "content_block_delta").map((e) =>
      JSON.parse(e.data).delta.text
    );
    assert.equal(text.join(""), "Hello");
    const delta = JSON.parse(events[6].data);
    assert.equal(delta.delta.stop_reason, "end_turn");
    assert.equal(delta.usage.output_tokens, 9);

    assert.equal(fake.requests.length, 1);
    const recorded = fake.requests[0];
    assert.equal(recorded.method, "POST");
    assert.equal(recorded.path, "/v1/messages?beta=true");
    assert.equal(recorded.host, new URL(fake.url).host);
    assert.equal(recorded.headers.get("x-api-key"), "sk-ant-test");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(recorded.body)), {
      model: "claude-x",
      stream: true,
    });
  } finally {
    await fake.close();
  }
});

Deno.test("anthropic without stream answers one JSON message", async () => {
  const fake = await startFakeProvider();
  try {
    const res = await post(`${fake.url}/v1/messages`, { model: "claude-x", max_tokens: 10 });
    const body = await res.json();
    assert.equal(body.type, "message");
    assert.deepEqual(body.content, [{ type: "text", text: "RECONDO-FAKE-OK" }]);
    assert.deepEqual(body.usage, {
      input_tokens: 21,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 7,
    });
    assert.ok(res.headers.get("request-id"));
  } finally {
    await fake.close();
  }
});

Deno.test("claude code's settings call gets an empty object and policy limits a 404", async () => {
  const fake = await startFakeProvider();
  try {
    const settings = await fetch(`${fake.url}/api/claude_code/settings`);
    assert.deepEqual(await settings.json(), {});
    const limits = await fetch(`${fake.url}/api/claude_code/policy_limits`);
    assert.equal(limits.status, 404);
    assert.equal((await limits.json()).error.type, "not_found_error");
  } finally {
    await fake.close();
  }
});

Deno.test("responses stream goes from response.created to response.completed with usage", async () => {
  const fake = await startFakeProvider({
    behavior: { usage: { input: 30, cacheRead: 10, output: 5, reasoning: 2 } },
  });
  try {
    const res = await post(`${fake.url}/v1/responses`, { model: "gpt-x", stream: true, input: "hi" });
    const events = parseSse(await res.text());
    const types = events.map((e) => e.event);
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    assert.ok(types.includes("response.output_text.delta"));
    const payloads = events.map((e) => JSON.parse(e.data));
    assert.deepEqual(payloads.map((p) => p.sequence_number), payloads.map((_, i) => i));
    const deltas = payloads.filter((p) => p.type === "response.output_text.delta").map((p) => p.delta);
    assert.equal(deltas.join(""), "RECONDO-FAKE-OK");
    const completed = payloads.at(-1).response;
    assert.equal(completed.status, "completed");
    assert.equal(completed.output[0].content[0].text, "RECONDO-FAKE-OK");
    assert.deepEqual(completed.usage, {
      input_tokens: 40,
      input_tokens_details: { cached_tokens: 10 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 45,
    });
  } finally {
    await fake.close();
  }
});

Deno.test("responses over WebSocket answer a prewarm without output and then a turn", async () => {
  const fake = await startFakeProvider();
  try {
    const ws = new WebSocket(`${fake.url.replace("http", "ws")}/v1/responses`);
    const received: Record<string, unknown>[] = [];
    const { promise: twoCompleted, resolve } = Promise.withResolvers<void>();
    ws.onmessage = (m) => {
      const payload = JSON.parse(m.data);
      received.push(payload);
      if (received.filter((p) => p.type === "response.completed").length === 2) resolve();
    };
    await new Promise((open) => ws.onopen = open);
    ws.send(JSON.stringify({ type: "response.create", model: "gpt-x", generate: false, input: [] }));
    ws.send(JSON.stringify({ type: "response.create", model: "gpt-x", input: [] }));
    await twoCompleted;
    const closed = new Promise((done) => ws.onclose = done);
    ws.close();
    await closed;

    assert.deepEqual(received.slice(0, 2).map((p) => p.type), ["response.created", "response.completed"]);
    const prewarm = received[1].response as { output: unknown[]; usage: { total_tokens: number } };
    assert.deepEqual(prewarm.output, []);
    assert.equal(prewarm.usage.total_tokens, 0);
    const turn = received.slice(2);
    assert.equal(turn[0].type, "response.created");
    const text = turn.filter((p) => p.type === "response.output_text.delta").map((p) => p.delta).join("");
    assert.equal(text, "RECONDO-FAKE-OK");
    assert.equal((turn.at(-1)?.response as { usage: { total_tokens: number } }).usage.total_tokens, 28);

    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0].method, "GET");
    assert.equal(fake.requests[0].wsMessages?.length, 2);
    assert.equal(JSON.parse(fake.requests[0].wsMessages?.[0] ?? "{}").generate, false);
  } finally {
    await fake.close();
  }
});

Deno.test("a refused WebSocket upgrade gets 426 so Codex falls back to HTTP", async () => {
  const fake = await startFakeProvider({ behavior: { refuseWebSocket: true } });
  try {
    const res = await fetch(`${fake.url}/v1/responses`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGVzdA==",
        "sec-websocket-version": "13",
      },
    });
    assert.equal(res.status, 426);
    await res.body?.cancel();
  } finally {
    await fake.close();
  }
});

Deno.test("chat completions stream ends with a usage chunk and [DONE]", async () => {
  const fake = await startFakeProvider();
  try {
    const res = await post(`${fake.url}/v1/chat/completions`, {
      model: "gpt-x",
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = parseSse(await res.text());
    assert.ok(events.every((e) => e.event === undefined));
    assert.equal(events.at(-1)?.data, "[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), "RECONDO-FAKE-OK");
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.equal(chunks.at(-1).usage.prompt_tokens, 21);
    assert.equal(chunks.at(-1).usage.completion_tokens, 7);

    const plain = await (await post(`${fake.url}/v1/chat/completions`, { model: "gpt-x" })).json();
    assert.equal(plain.choices[0].message.content, "RECONDO-FAKE-OK");
    assert.equal(plain.usage.total_tokens, 28);
  } finally {
    await fake.close();
  }
});

Deno.test("gemini streams CRLF-separated data lines, the last with finishReason and usageMetadata", async () => {
  const fake = await startFakeProvider({
    behavior: { answer: ["a", "b", "c"], usage: { reasoning: 3, output: 10 } },
  });
  try {
    const res = await post(`${fake.url}/v1beta/models/gemini-x:streamGenerateContent?alt=sse`, {
      contents: [],
    });
    const raw = await res.text();
    assert.ok(raw.endsWith("\r\n\r\n"));
    const chunks = parseSse(raw).map((e) => JSON.parse(e.data));
    assert.equal(chunks.length, 3);
    assert.equal(chunks.map((c) => c.candidates[0].content.parts[0].text).join(""), "abc");
    assert.equal(chunks[0].candidates[0].finishReason, undefined);
    assert.equal(chunks[2].candidates[0].finishReason, "STOP");
    assert.deepEqual(chunks[2].usageMetadata, {
      promptTokenCount: 21,
      candidatesTokenCount: 7,
      thoughtsTokenCount: 3,
      totalTokenCount: 31,
    });
    assert.equal(chunks[2].modelVersion, "gemini-x");

    const plain = await (await post(`${fake.url}/v1beta/models/gemini-x:generateContent`, { contents: [] }))
      .json();
    assert.equal(plain.candidates[0].content.parts[0].text, "abc");
  } finally {
    await fake.close();
  }
});

Deno.test("each event leaves the fake as it is produced, eventDelayMs apart", async () => {
  const fake = await startFakeProvider({ behavior: { answer: ["1", "2", "3", "4"], eventDelayMs: 50 } });
  try {
    const res = await post(`${fake.url}/v1/chat/completions`, { stream: true });
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    const started = performance.now();
    while (true) {
      const { done } = await reader.read();
      if (done) break;
      arrivals.push(performance.now() - started);
    }
    // 7 events (role, 4 deltas, stop, [DONE]), so 6 pauses of 50 ms; each read is one event.
    assert.ok(arrivals.length >= 6, `expected separate reads, got ${arrivals.length}`);
    assert.ok(
      arrivals[0] < arrivals.at(-1)! - 200,
      `first event at ${arrivals[0]} ms, end at ${arrivals.at(-1)}`,
    );
    assert.ok(arrivals.at(-1)! >= 280, `stream ended after ${arrivals.at(-1)} ms`);
  } finally {
    await fake.close();
  }
});

Deno.test("failStatus answers model calls with each provider's own error shape", async () => {
  const fake = await startFakeProvider({ behavior: { failStatus: 429 } });
  try {
    const anthropic = await post(`${fake.url}/v1/messages`, { stream: true });
    assert.equal(anthropic.status, 429);
    assert.deepEqual((await anthropic.json()).error, {
      type: "rate_limit_error",
      message: "fake provider fails with 429",
    });
    const openai = await post(`${fake.url}/v1/responses`, { stream: true });
    assert.equal(openai.status, 429);
    assert.equal((await openai.json()).error.code, "rate_limit_exceeded");
    const gemini = await post(`${fake.url}/v1beta/models/g:streamGenerateContent?alt=sse`, {});
    assert.equal(gemini.status, 429);
    assert.deepEqual((await gemini.json()).error, {
      code: 429,
      message: "fake provider fails with 429",
      status: "RESOURCE_EXHAUSTED",
    });
    fake.setBehavior({});
    assert.equal((await post(`${fake.url}/v1/messages`, {}).then((r) => r.json())).type, "message");
  } finally {
    await fake.close();
  }
});

Deno.test("closeAfterEvents cuts the stream after the first events have arrived", async () => {
  const fake = await startFakeProvider({ behavior: { closeAfterEvents: 2 } });
  try {
    const res = await post(`${fake.url}/v1/messages`, { stream: true });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = "";
    await assert.rejects(async () => {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    });
    assert.match(text, /event: message_start/);
    assert.doesNotMatch(text, /message_stop/);
  } finally {
    await fake.close();
  }
});

Deno.test("with tls the fake serves HTTPS that a client trusting its CA accepts, over h2 and http/1.1", async () => {
  const material = makeTestCertificate();
  const fake = await startFakeProvider({ tls: { cert: material.cert, key: material.key } });
  try {
    assert.match(fake.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    for (const http2 of [true, false]) {
      const client = Deno.createHttpClient({ caCerts: [material.caCert], http2 });
      try {
        const res = await fetch(`${fake.url}/v1/messages`, {
          client,
          method: "POST",
          body: '{"stream":true}',
        });
        assert.match(await res.text(), /RECONDO-FAKE-OK/);
      } finally {
        client.close();
      }
    }
    await assert.rejects(fetch(`${fake.url}/v1/messages`, { method: "POST", body: "{}" }));
    assert.equal(fake.requests.length, 2);
  } finally {
    await fake.close();
  }
});

Deno.test("a tool script answers the agent's turn with a streamed tool_use, and its result with text", async () => {
  const input = { command: "echo recondo-tool-ok", description: "print a marker" };
  const fake = await startFakeProvider({
    behavior: { answer: "Done.", toolScript: { name: "Bash", input } },
  });
  try {
    const tools = [{ name: "Bash", input_schema: {} }];
    const first = parseSse(
      await (await post(`${fake.url}/v1/messages`, {
        model: "claude-x",
        stream: true,
        tools,
        messages: [{ role: "user", content: "run it" }],
      })).text(),
    );
    const start = JSON.parse(first.find((e) => e.event === "content_block_start")!.data);
    assert.equal(start.content_block.type, "tool_use");
    assert.equal(start.content_block.name, "Bash");
    const json = first.filter((e) => e.event === "content_block_delta")
      .map((e) => JSON.parse(e.data).delta.partial_json).join("");
    assert.deepEqual(JSON.parse(json), input);
    assert.equal(
      JSON.parse(first.find((e) => e.event === "message_delta")!.data).delta.stop_reason,
      "tool_use",
    );

    const withResult = parseSse(
      await (await post(`${fake.url}/v1/messages`, {
        model: "claude-x",
        stream: true,
        tools,
        messages: [
          { role: "user", content: "run it" },
          {
            role: "assistant",
            content: [{ type: "tool_use", id: start.content_block.id, name: "Bash", input }],
          },
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: start.content_block.id, content: "ok" }],
          },
        ],
      })).text(),
    );
    assert.equal(
      JSON.parse(withResult.find((e) => e.event === "content_block_delta")!.data).delta.text,
      "Done.",
    );

    const sideRequest = parseSse(
      await (await post(`${fake.url}/v1/messages`, {
        model: "claude-haiku",
        stream: true,
        messages: [{ role: "user", content: "write a title" }],
      })).text(),
    );
    assert.equal(
      JSON.parse(sideRequest.find((e) => e.event === "content_block_start")!.data).content_block.type,
      "text",
      "a request that does not offer the tool gets text",
    );
  } finally {
    await fake.close();
  }
});
