import assert from "node:assert/strict";
import { hashPassword, verifyPassword } from "./password.ts";

Deno.test("a hashed password verifies and a wrong one does not", async () => {
  const stored = await hashPassword("correct horse battery");
  assert.match(stored, /^scrypt\$16384\$8\$1\$/);
  assert.equal(await verifyPassword("correct horse battery", stored), true);
  assert.equal(await verifyPassword("correct horse batterz", stored), false);
});

Deno.test("two hashes of one password differ by their salt", async () => {
  assert.notEqual(await hashPassword("same password"), await hashPassword("same password"));
});

Deno.test("short passwords are refused and malformed hashes never match", async () => {
  await assert.rejects(hashPassword("short"), /at least 8 characters, got 5/);
  assert.equal(await verifyPassword("anything", "plain-text"), false);
});
