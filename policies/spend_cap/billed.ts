/**
 * Which requests cost money: model turns, not token counts, model lists or other auxiliary calls, and
 * not the WebSocket upgrade itself (its turns are charged one by one).
 * @module
 */

/** True for an API whose requests are billed model turns. */
export function isBilledApi(api: string | null): boolean {
  return api !== null && !/(?:auxiliary|count_tokens|responses_ws)$/.test(api);
}
