import assert from "node:assert/strict";
import { allProcStats, parseStat, ProcessGroup, procStats, procTreeStats, treeOf } from "./processes.ts";

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

Deno.test("parseStat reads pid, parent, CPU ticks and RSS even when the command name has spaces", () => {
  const line = "4242 (security file) S 4200 4242 4242 0 -1 4194560 100 0 0 0 " +
    "7 3 20 5 20 0 1 0 12345 1000000 250 18446744073709551615";
  assert.deepEqual(parseStat(line), { pid: 4242, ppid: 4200, ticks: 10, childTicks: 25, rssPages: 250 });
});

Deno.test("a process tree counts every descendant and the children its members already reaped", () => {
  const stat = (pid: number, ppid: number, ticks: number, childTicks = 0) => ({
    pid,
    ppid,
    ticks,
    childTicks,
    rssPages: 1,
  });
  const stats = [
    stat(1, 0, 1000),
    stat(10, 1, 50, 7), // squid, which reaped a helper that used 7 ticks
    stat(11, 10, 2), // helper
    stat(12, 10, 3), // helper
    stat(13, 12, 1), // a helper's own child
    stat(20, 1, 400), // unrelated
  ];
  const tree = treeOf(stats, 10);
  assert.deepEqual(tree.pids.sort((a, b) => a - b), [10, 11, 12, 13]);
  assert.equal(tree.ticks, 50 + 7 + 2 + 3 + 1);
  assert.equal(tree.rssPages, 4);
  assert.throws(() => treeOf(stats, 99), /pid 99/);
});

Deno.test("procTreeStats sums a live parent and the children it spawned", async () => {
  const group = new ProcessGroup();
  // Two busy children under one shell; the shell itself does nothing.
  const service = group.spawn("tree", "sh", {
    args: ["-c", 'for i in 1 2; do (while :; do :; done) & done; echo "{\\"ready\\":1}"; wait'],
  });
  try {
    await service.nextJson(5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const tree = procTreeStats(service.pid);
    assert.equal(tree.processes, 3);
    assert.ok(tree.cpuMs > procStats(service.pid).cpuMs, `tree ${tree.cpuMs} ms`);
  } finally {
    for (const pid of treeOf(allProcStats(), service.pid).pids.filter((p) => p !== service.pid)) {
      Deno.kill(pid, "SIGKILL");
    }
    await group.stopAll();
  }
});
