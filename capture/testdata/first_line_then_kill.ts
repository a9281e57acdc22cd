/**
 * Runs a child Deno script, reads its stdout up to the first line (what it acknowledged before the crash),
 * then kills it with SIGKILL: for the crash tests, which replay the journal the dead process left behind.
 */
export async function firstLineThenKill(script: string, args: string[]): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    stdout: "piped",
    stderr: "null",
    env: { RECONDO_LOG: "silent" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  return text;
}
