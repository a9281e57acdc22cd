/**
 * How the two bodies of a capture record are to be stored, decided before anything is written: each
 * hashed over its exact bytes, and a chat request body cut into segments (`segments/split.ts`). The write
 * batch plans all its records first, so it can put their small unsegmented bodies into one shared pack
 * (`storage/bodies/batch_pack.ts`) before each record's remaining bodies are stored.
 * @module
 */
import { MAX_PACKED_BODY_BYTES, type SmallBody } from "../storage/bodies/batch_pack.ts";
import type { SegmentSpan } from "../storage/bodies/write.ts";
import { sha256Hex } from "../storage/objects/content.ts";
import type { ObjectMeta } from "../storage/objects/store.ts";
import type { CaptureRecord } from "./record.ts";
import { splitBody } from "./segments/split.ts";

/** How one body of a record is to be stored: hashed, and cut into segments or `null` (stored whole). */
export interface BodyPlan {
  bytes: Uint8Array;
  sha256: string;
  spans: readonly SegmentSpan[] | null;
  meta: ObjectMeta;
}

/** Hashes both bodies of `record` and finds the request's segments (none when `segment` is false). */
export function planBodies(
  record: CaptureRecord,
  segment = true,
): { request: BodyPlan; response: BodyPlan } {
  const ex = record.exchange;
  const ws = ex.kind === "websocket";
  const { requestBody, responseBody } = record;
  return {
    request: {
      bytes: requestBody,
      sha256: sha256Hex(requestBody),
      spans: ws || !segment ? null : splitBody(requestBody),
      meta: {
        kind: ws ? "ws-client" : "request",
        size: requestBody.length,
        contentType: ex.request.headers["content-type"],
      },
    },
    response: {
      bytes: responseBody,
      sha256: sha256Hex(responseBody),
      spans: null,
      meta: {
        kind: ws ? "ws-server" : "response",
        size: responseBody.length,
        contentType: ex.response?.headers["content-type"],
      },
    },
  };
}

/** The bodies of `plan` small enough, and not segmented, to share their batch's pack (`batch_pack.ts`). */
export function smallBodies(plan: { request: BodyPlan; response: BodyPlan }): SmallBody[] {
  return [plan.request, plan.response].filter((p) =>
    !p.spans?.length && p.bytes.length <= MAX_PACKED_BODY_BYTES
  );
}
