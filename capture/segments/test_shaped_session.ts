/**
 * Request bodies of a Claude Code-shaped agent session, for tests and storage benchmarks: a ~90 KB stable
 * prefix (system prompt and tool definitions), then per turn an assistant tool call and a 2–4.6 KB tool
 * result, with the `cache_control` breakpoint on the newest message; every request resends everything.
 * Text is drawn from a vocabulary by a seeded PRNG so it compresses like prose and code, not like zeros.
 * @example
 * const bodies = shapedSessionBodies(150); // bodies[149] is ~690 KB
 * @module
 */

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "the a to of and in is for that with on as it be this are by from or at an not if use file run test " +
  "function const return await import export type interface string number error value result path name " +
  "config session request response body stream token model tool call user assistant system message " +
  "src lib main index util handler server client proxy capture store object hash chain turn policy " +
  "README.md deno.json package.json ts tsx json yaml {} () [] => === !== && || ; : , . / - _ 0 1 2 3 42 " +
  "retention verify manifest segment pack gzip byte offset length size read write commit branch merge"
).split(" ");

function text(r: () => number, bytes: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < bytes) {
    const w = WORDS[Math.floor(r() * WORDS.length)] + (r() < 0.08 ? "\n" : " ");
    out.push(w);
    n += w.length;
  }
  return out.join("");
}

/** The request bodies of turns 1..`turns` of one session (exact bytes as a client would send them). */
export function shapedSessionBodies(turns: number, seed = 7): Uint8Array[] {
  const r = rng(seed);
  const system = [
    { type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude." },
    { type: "text", text: text(r, 14_000), cache_control: { type: "ephemeral" } },
  ];
  const tools = Array.from({ length: 18 }, (_, i) => ({
    name: `Tool${i}`,
    description: text(r, 3_800),
    input_schema: {
      type: "object",
      properties: { command: { type: "string", description: text(r, 300) } },
      required: ["command"],
    },
  }));
  const messages: Record<string, unknown>[] = [
    { role: "user", content: [{ type: "text", text: text(r, 1_200) }] },
  ];
  const enc = new TextEncoder();
  const bodies: Uint8Array[] = [];
  for (let turn = 1; turn <= turns; turn++) {
    if (turn > 1) {
      const id = `toolu_${turn.toString().padStart(4, "0")}${Math.floor(r() * 1e9)}`;
      messages.push({
        role: "assistant",
        content: [
          { type: "text", text: text(r, 150) },
          { type: "tool_use", id, name: "Bash", input: { command: text(r, 60) } },
        ],
      });
      messages.push({
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: id,
          content: text(r, 2_000 + Math.floor(r() * 2_600)),
        }],
      });
    }
    // The breakpoint sits on the newest message's last block only: the previous one loses it.
    const shown = messages.map((m, i) => {
      if (i !== messages.length - 1) return m;
      const content = m.content as Record<string, unknown>[];
      const last = { ...content[content.length - 1], cache_control: { type: "ephemeral" } };
      return { ...m, content: [...content.slice(0, -1), last] };
    });
    bodies.push(enc.encode(JSON.stringify({
      model: "claude-sonnet-4-5",
      messages: shown,
      temperature: 1,
      system,
      tools,
      metadata: { user_id: "user_0123456789abcdef_account__session_5e1c7a" },
      max_tokens: 32_000,
      stream: true,
    })));
  }
  return bodies;
}
