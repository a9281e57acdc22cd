import assert from "node:assert/strict";
import { JsonValueStream } from "./json_stream.ts";

const encoder = new TextEncoder();

function split(text: string, at: number[]): { values: string[]; errors: string[] } {
  const stream = new JsonValueStream({ maxValueChars: 200 });
  const bytes = encoder.encode(text);
  const values: string[] = [];
  const errors: string[] = [];
  let start = 0;
  for (const cut of [...at, bytes.length]) {
    const out = stream.push(bytes.subarray(start, cut));
    values.push(...out.values);
    errors.push(...out.errors);
    start = cut;
  }
  const end = stream.end();
  return { values: [...values, ...end.values], errors: [...errors, ...end.errors] };
}

Deno.test("a single JSON object is yielded whole once its last brace arrives", () => {
  const stream = new JsonValueStream();
  assert.deepEqual(stream.push(encoder.encode('{"a":{"b":[1,2')).values, []);
  assert.deepEqual(stream.push(encoder.encode("]}}")).values, ['{"a":{"b":[1,2]}}']);
  assert.deepEqual(stream.end(), { values: [], errors: [] });
});

Deno.test("braces and escaped quotes inside strings do not end a value", () => {
  const text = '[{"t":"a \\"} b"},\n{"t":"\\\\"},{"t":"{[\\"]}"}]';
  for (let cut = 1; cut < text.length; cut++) {
    const { values, errors } = split(text, [cut]);
    assert.deepEqual(values, ['{"t":"a \\"} b"}', '{"t":"\\\\"}', '{"t":"{[\\"]}"}'], `cut at ${cut}`);
    assert.deepEqual(errors, []);
  }
  assert.deepEqual(values(text).map((v) => JSON.parse(v).t), ['a "} b', "\\", '{["]}']);
});

Deno.test("an array body ended early reports the unfinished element", () => {
  const { values, errors } = split('[{"a":1},{"b":', []);
  assert.deepEqual(values, ['{"a":1}']);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /ended inside a value/);
});

Deno.test("text after the value and non-object bodies are reported", () => {
  assert.deepEqual(split('{"a":1} trailing', []).errors, ["JSON body has text after its value"]);
  assert.deepEqual(split("not json", []).errors, [
    'JSON body has an unexpected character "n"; the rest is ignored',
  ]);
});

Deno.test("a value longer than the bound is dropped and the next one is still read", () => {
  const long = `{"x":"${"y".repeat(300)}"}`;
  const { values, errors } = split(`[${long},{"ok":true}]`, [50, 120, 250]);
  assert.deepEqual(values, ['{"ok":true}']);
  assert.deepEqual(errors, ["JSON value longer than 200 characters was dropped"]);
});

function values(text: string): string[] {
  return split(text, []).values;
}

Deno.test("runs of backslashes before quotes split at any two points give the same values as JSON.parse", () => {
  const elements = [
    { t: 'x\\"}' },
    { t: "\\\\\\", u: '"{["' },
    { t: "end\\" },
    { t: 'a"b\\"c', v: ["\\", '"'] },
  ];
  const text = JSON.stringify(elements);
  const expected = elements.map((element) => JSON.stringify(element));
  for (let first = 1; first < text.length; first += 3) {
    for (let second = first; second < text.length; second += 2) {
      const { values, errors } = split(text, [first, second]);
      assert.deepEqual(values, expected, `cuts at ${first}, ${second}`);
      assert.deepEqual(errors, []);
    }
  }
});
