/**
 * Names and values shared by the assignment rules, the argument rules and the JSON walker: what a
 * secret-named setting is called, which such names are not secrets, and which values are placeholders.
 * @module
 */

/** Names that mark an assignment's value as a secret (`DB_PASSWORD=…`, `apiKey: "…"`). */
export const SECRET_NAME =
  "(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|credentials?)";
/** Secret-looking names that are not secrets (gitleaks' generic-api-key allowlist, condensed). */
export const NOT_SECRET_NAME =
  /(?:[_.-]?(?:ids?|url|uri|path|file|name|type|endpoint|host|port|length|size|ttl|timeout|expiry|expires(?:_at|_in)?|count|limit|max|min|enabled|dir|region|version|header|field|param|algorithm|alg|prefix|hint|label|env|var))$|(?:public|publishable|csrf|xsrf|page|next|cache|sync|cursor|continuation)[_.-]?(?:key|token)|tokens|tokeniz|max[_.-]?token|(?:^|[_.-])(?:use|has|is|no|show|require|allow)[_.-]?|secretsid/i;
/** Values that are placeholders or references, not secrets. */
export const PLACEHOLDER_VALUE =
  /^(?:[A-Za-z_.-]+|\d+|x+|\*+|\.+)$|example|placeholder|your[_-]|xxxx|\*\*\*|redacted|changeme|\{\{|\$\{|^\$|^<|:\/\/|^(?:~|\.{1,2})?\/(?:[\w.-]+\/)+[\w.-]*$/i;
