import assert from "node:assert/strict";
import { z } from "zod";
import { displayValue, fieldsOf, readFields } from "./schema_form.ts";

const schema = z.toJSONSchema(
  z.object({
    models: z.array(z.string()).default([]),
    status: z.number().int().min(400).max(599).default(400),
    mode: z.enum(["a", "b"]).default("a"),
    strict: z.boolean().default(false),
    message: z.string().default("hi"),
    extra: z.record(z.string(), z.number()).optional(),
  }),
  { io: "input" },
) as Record<string, unknown>;

Deno.test("a zod object schema becomes one field per option, of an editable kind", () => {
  const fields = fieldsOf(schema);
  assert.deepEqual(fields.map((f) => [f.name, f.kind]), [
    ["models", "lines"],
    ["status", "integer"],
    ["mode", "enum"],
    ["strict", "boolean"],
    ["message", "text"],
    ["extra", "json"],
  ]);
  assert.equal(fields[1].min, 400);
  assert.deepEqual(fields[2].choices, ["a", "b"]);
  assert.equal(displayValue(fields[0], ["x", "y"]), "x\ny");
  assert.equal(displayValue(fields[1], undefined), "400");
});

Deno.test("a submitted form reads back into options, with errors named by field", () => {
  const form = new FormData();
  form.set("o.models", "gpt-4*\n\n claude-*  ");
  form.set("o.status", "four hundred");
  form.set("o.strict", "on");
  form.set("o.message", "");
  form.set("o.extra", "{not json");
  const { value, errors } = readFields(fieldsOf(schema), form, "o.");
  assert.deepEqual(value, { models: ["gpt-4*", "claude-*"], strict: true });
  assert.match(errors.status, /Not a number: "four hundred"/);
  assert.match(errors.extra, /Not JSON/);
});
