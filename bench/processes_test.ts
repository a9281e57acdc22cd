import assert from "node:assert/strict";
import { ProcessGroup, procStats } from "./processes.ts";

Deno.test("a process group stops every child it spawned", async () => {
  const group = new ProcessGroup();
  const service = group.spawn("sleeper", "sh", { args: ["-c", 'echo "{\\"ready\\":1}"; exec sleep 30'] });
  assert.deepEqual(await service.nextJson(5000), { ready: 1 });
  assert.equal(service.exitCode(), null);
  assert.ok(procStats(service.pid).rssKb > 0);
  await group.stopAll();
  const status = await service.child.status;
  assert.equal(status.signal, "SIGTERM");
  assert.throws(() => procStats(service.pid));
});

Deno.test("procStats reads this process's resident memory and CPU time", () => {
  let x = 0;
  for (let i = 0; i < 2e7; i++) x += i;
  const stats = procStats(Deno.pid);
  assert.ok(x > 0 && stats.rssKb > 10_000, `RSS ${stats.rssKb} kB`);
  assert.ok(stats.cpuMs > 0, `CPU ${stats.cpuMs} ms`);
});
