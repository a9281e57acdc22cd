import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { openSqlite } from "../storage/db/sqlite.ts";
import { findUser } from "../storage/ui/users.ts";
import { verifyPassword } from "../ui/password.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

async function run(dir: string, args: string[], stdin: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env: { RECONDO_DATA_DIR: dir, RECONDO_LOG: "warn" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("user add reads the password from stdin, stores only its scrypt hash, and refuses short ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const added = await run(
      dir,
      ["user", "add", "ana", "--role", "admin", "--password-stdin"],
      "correct horse battery\n",
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Created UI account "ana" \(admin\)/);
    const short = await run(dir, ["user", "add", "bob", "--password-stdin"], "short\n");
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 8 characters, got 5/);
    const db = openSqlite(`${dir}/recondo.db`);
    try {
      const user = await findUser(db, "ana");
      assert.equal(user?.role, "admin");
      assert.ok(!user!.passwordHash.includes("correct horse"));
      assert.equal(await verifyPassword("correct horse battery", user!.passwordHash), true);
      assert.equal(await findUser(db, "bob"), null);
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
