/**
 * A stand-in for the Compute Engine metadata server, the one Google credential source a client finds
 * without a key file: google-auth-library asks `http://$GCE_METADATA_HOST/computeMetadata/v1/…` for an
 * OAuth access token (`ya29.…`) when `METADATA_SERVER_DETECTION=assume-present`. Gemini CLI in Vertex mode
 * with a project and location (no API key) then sends that token as `Authorization: Bearer`, exactly as
 * on a GCE VM or GKE pod. Plain HTTP on loopback, like the real server on 169.254.169.254.
 * @module
 */

/** The access token every client gets: shaped like a real one, so credential stripping sees the real thing. */
export const FAKE_ACCESS_TOKEN = "ya29.recondo-fake-vertex-access-token";

/** A running metadata server. */
export interface FakeMetadataServer {
  /** `127.0.0.1:PORT`, what `GCE_METADATA_HOST` is set to. */
  host: string;
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts the metadata server on a free loopback port. */
export function startFakeMetadataServer(): FakeMetadataServer {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { pathname } = new URL(req.url);
    requests.push(pathname);
    const headers = { "metadata-flavor": "Google" };
    // The real server refuses requests without the header, which guards against SSRF.
    if (req.headers.get("metadata-flavor") !== "Google") {
      return new Response("Missing Metadata-Flavor:Google header", { status: 403, headers });
    }
    if (pathname === "/computeMetadata/v1/instance/service-accounts/default/token") {
      return Response.json({ access_token: FAKE_ACCESS_TOKEN, expires_in: 3599, token_type: "Bearer" }, {
        headers,
      });
    }
    if (pathname === "/computeMetadata/v1/project/project-id") {
      return new Response("recondo-test", { headers });
    }
    if (pathname === "/computeMetadata/v1/instance/service-accounts/default/email") {
      return new Response("agent@recondo-test.iam.gserviceaccount.com", { headers });
    }
    if (pathname === "/computeMetadata/v1/instance" || pathname === "/computeMetadata/v1/") {
      return new Response("", { headers });
    }
    return new Response("not found", { status: 404, headers });
  });
  return {
    host: `127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}
