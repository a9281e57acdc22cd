import assert from "node:assert/strict";
import { exportHeaders } from "./headers.ts";

Deno.test("headersFile adds its headers to otel.headers, and a file others can read stops the start", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "# collector auth\nAuthorization: Bearer s3cret\n\nX-Tenant: eng\n");
    await Deno.chmod(file, 0o600);
    assert.deepEqual(await exportHeaders({ headers: { "X-Env": "prod" }, headersFile: file }), {
      "x-env": "prod",
      "authorization": "Bearer s3cret",
      "x-tenant": "eng",
    });
    await Deno.chmod(file, 0o644);
    await assert.rejects(exportHeaders({ headers: {}, headersFile: file }), /readable by group or others/);
    await Deno.chmod(file, 0o600);
    await Deno.writeTextFile(file, "not a header line\n");
    await assert.rejects(exportHeaders({ headers: {}, headersFile: file }), /line 1 is not "Name: value"/);
    await assert.rejects(exportHeaders({ headers: {}, headersFile: `${file}.missing` }), /cannot be read/);
  } finally {
    await Deno.remove(file);
  }
});
