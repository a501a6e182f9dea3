import * as v from 'valibot';
import { DEFAULT_BACKEND_NAME, type DesktopSettings, type GateRequest, type MethodName, type ProxySettings } from '../shared/contract.js';

/**
 * One input schema per GateApi method, shared by every transport (IPC, admin HTTP): whatever a
 * window sends is parsed here before the service sees it. Objects are strict, so a misspelt field
 * is an error rather than silently ignored. The `satisfies` below makes a method without a schema,
 * or a schema that parses to something other than the method's request type, a compile error.
 */

/**
 * `schema` (an object schema), refusing arrays: valibot's objects take an array for an object by
 * design (its indices are just keys), so `[]` would pass as `{}` wherever every field is optional.
 */
export function notArray<TSchema extends v.GenericSchema<unknown, object>>(schema: TSchema) {
  return v.pipe(
    v.unknown(),
    v.check((input) => !Array.isArray(input), 'Invalid type: Expected Object but received Array'),
    schema,
  );
}

/** A strict object (an unknown field is an error) that is not an array. */
function strictObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return notArray(v.strictObject(entries));
}

/** Methods that take nothing accept nothing, an empty object or null (what an HTTP client may send). */
const noInput = v.pipe(
  v.nullish(strictObject({})),
  v.transform((): void => undefined),
);

/** Optional-input methods: absent or null means all defaults. */
function optionalInput<TSchema extends v.GenericSchema<unknown, object>>(schema: TSchema) {
  return v.pipe(
    v.nullish(schema),
    v.transform((value) => value ?? undefined),
  );
}

/** a whole number within ±2^53 (`v.integer` alone would take 2^60) */
const int = (message?: string) => v.pipe(v.number(), v.safeInteger(message));

const id = v.pipe(v.string(), v.trim(), v.minLength(1, 'an id is required'), v.maxLength(64));
const user = v.pipe(v.string(), v.trim(), v.minLength(1, 'a key needs a user name'), v.maxLength(100, 'at most 100 characters'));
const positiveLimit = (what: string) =>
  v.nullable(v.pipe(int(`${what} must be a whole number`), v.gtValue(0, `${what} must be above 0, or empty for no limit`), v.maxValue(1e12)));

const keyFields = v.strictObject({
  user,
  name: v.pipe(
    v.nullable(v.pipe(v.string(), v.trim(), v.maxLength(100, 'at most 100 characters'))),
    v.transform((n) => (n ? n : null)),
  ),
  scope: v.picklist(['inference', 'full']),
  models: v.pipe(
    v.array(
      v.pipe(v.string(), v.trim(), v.minLength(1, 'a model pattern cannot be empty'), v.maxLength(200), v.regex(/^[^\s]+$/, 'a model pattern has no spaces')),
    ),
    v.maxLength(200),
    v.transform((models) => [...new Set(models)]),
  ),
  rpm: positiveLimit('requests per minute'),
  concurrency: positiveLimit('concurrent requests'),
  dailyTokens: positiveLimit('tokens per day'),
  expiresAt: v.nullable(v.pipe(int(), v.gtValue(0))),
});

const optionalKeyFields = v.partial(keyFields).entries;

/** Timeouts stay within what a Node timer can hold (2^31 ms), with room: a day. */
const DAY_MS = 24 * 3600 * 1000;

const port = v.pipe(int('the port is a whole number'), v.minValue(0), v.maxValue(65535, 'ports go up to 65535'));

/** a PEM file's path, or null for the self-signed pair */
const pemFile = v.nullable(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(4096)));

const upstreamMessage = "Ollama's URL, such as http://127.0.0.1:11434";

// An http(s) URL written out with its `://`, stored trimmed and without tabs or newlines (the URL
// parser skips those, so the stored string is the URL that was checked). The pipe stops at the first
// failing check, so a mistake is reported once rather than once per check.
const ollamaUrl = v.config(
  v.pipe(
    v.string(upstreamMessage),
    v.trim(),
    v.regex(/^https?:\/\//i, upstreamMessage),
    v.url(upstreamMessage),
    v.transform((url) => url.replace(/[\t\n\r]/g, '')),
  ),
  { abortPipeEarly: true },
);

/** Backend names go into a header (X-Gate-Backend), the log and /health: short, plain, and never the default's. */
const backendName = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'a name of letters, digits, ".", "_" or "-", up to 40 characters'),
  v.check((name) => name.toLowerCase() !== DEFAULT_BACKEND_NAME && name.toLowerCase() !== 'all', `"${DEFAULT_BACKEND_NAME}" and "all" are taken`),
);

const backends = v.pipe(
  v.array(
    v.strictObject({
      name: backendName,
      url: ollamaUrl,
      enabled: v.boolean(),
      weight: v.pipe(int('the weight is a whole number'), v.minValue(1, 'at least 1'), v.maxValue(100, 'at most 100')),
    }),
  ),
  v.maxLength(16, 'at most 16 backends'),
  v.check((list) => new Set(list.map((b) => b.name.toLowerCase())).size === list.length, 'each backend needs a name of its own'),
);

/** The proxy settings' fields, once: strict for what a window sends, lenient for what the store file holds. */
export const proxySettingsFields = {
  host: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, 'an address to listen on is required'),
    v.check((host) => /^[0-9a-fA-F:.]+$/.test(host) || /^[a-zA-Z0-9.-]+$/.test(host), 'an IP address or host name, such as 0.0.0.0 or 127.0.0.1'),
  ),
  port,
  upstream: ollamaUrl,
  backends,
  sessionTtlSeconds: v.pipe(int(), v.minValue(0, '0 turns IP sessions off'), v.maxValue(30 * 24 * 3600, 'at most 30 days')),
  maxSessionsPerKey: v.pipe(int(), v.minValue(1, 'at least 1'), v.maxValue(10_000)),
  corsOrigins: v.pipe(v.array(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(300))), v.maxLength(100)),
  maxInspectBytes: v.pipe(int(), v.minValue(1024 * 1024, 'at least 1 MiB'), v.maxValue(1024 * 1024 * 1024)),
  upstreamHeadersTimeoutMs: v.pipe(int(), v.minValue(0), v.maxValue(DAY_MS, 'at most 24 hours')),
  upstreamBodyTimeoutMs: v.pipe(int(), v.minValue(0), v.maxValue(DAY_MS, 'at most 24 hours')),
  upstreamConnectTimeoutMs: v.pipe(int(), v.minValue(1), v.maxValue(DAY_MS, 'at most 24 hours')),
  maxHeaderBytes: v.pipe(int(), v.minValue(1024, 'at least 1 KiB'), v.maxValue(1024 * 1024)),
  clientHeadersTimeoutMs: v.pipe(int(), v.minValue(100, 'at least 100 ms'), v.maxValue(DAY_MS, 'at most 24 hours')),
  maxBodyBytes: v.pipe(int(), v.minValue(0, '0 means no limit')),
  clientBodyTimeoutMs: v.pipe(int(), v.minValue(100, 'at least 100 ms'), v.maxValue(DAY_MS, 'at most 24 hours')),
  clientIdleTimeoutMs: v.pipe(int(), v.minValue(1_000, 'at least 1 s'), v.maxValue(DAY_MS, 'at most 24 hours')),
  maxConnections: v.pipe(int(), v.minValue(16, 'at least 16'), v.maxValue(1_000_000)),
  maxUnauthenticatedBodyBytes: v.pipe(int(), v.minValue(1024, 'at least 1 KiB'), v.maxValue(1024 * 1024 * 1024)),
  unauthenticatedBodyBudgetBytes: v.pipe(int(), v.minValue(1024 * 1024, 'at least 1 MiB'), v.maxValue(16 * 1024 * 1024 * 1024)),
  logRequestBodies: v.boolean(),
  logHistoryEntries: v.pipe(int(), v.minValue(0, '0 keeps no history on disk'), v.maxValue(10_000, 'at most 10000')),
  lockoutMaxFailures: v.pipe(int(), v.minValue(0, '0 turns lockout off'), v.maxValue(10_000)),
  lockoutWindowSeconds: v.pipe(int(), v.minValue(1), v.maxValue(24 * 3600)),
  lockoutCooldownSeconds: v.pipe(int(), v.minValue(1), v.maxValue(7 * 24 * 3600)),
  tlsEnabled: v.boolean(),
  tlsPort: port,
  tlsCertFile: pemFile,
  tlsKeyFile: pemFile,
};

const proxySettings = v.strictObject(proxySettingsFields) satisfies v.GenericSchema<unknown, ProxySettings>;

const desktopSettings = v.strictObject({
  startOnLaunch: v.boolean(),
  launchAtLogin: v.boolean(),
  showInDock: v.boolean(),
  language: v.picklist(['system', 'en', 'zh-CN']),
}) satisfies v.GenericSchema<unknown, DesktopSettings>;

/** YYYY-MM-DD */
const day = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD'));

export const methodSchemas = {
  'keys.list': noInput,
  'keys.create': strictObject({ ...optionalKeyFields, user, enabled: v.optional(v.boolean()) }),
  'keys.update': strictObject({ ...optionalKeyFields, id }),
  'keys.setEnabled': strictObject({ id, enabled: v.boolean() }),
  'keys.rotate': strictObject({ id }),
  'keys.remove': strictObject({ id }),
  'sessions.list': noInput,
  'sessions.revoke': strictObject({ ip: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(64)) }),
  'lockouts.list': noInput,
  'lockouts.unlock': strictObject({ ip: v.pipe(v.string(), v.trim(), v.ip('an IPv4 or IPv6 address, such as 192.168.1.23')) }),
  'usage.query': optionalInput(strictObject({ since: v.optional(day), keyId: v.optional(id) })),
  'logs.recent': optionalInput(
    strictObject({
      limit: v.optional(v.pipe(int(), v.minValue(1), v.maxValue(100_000))),
      after: v.optional(v.pipe(int(), v.minValue(0))),
    }),
  ),
  'backends.list': noInput,
  'health.get': noInput,
  'health.check': noInput,
  'proxy.status': noInput,
  'proxy.start': noInput,
  'proxy.stop': noInput,
  'proxy.test': optionalInput(strictObject({ key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(500))) })),
  'settings.get': noInput,
  'settings.update': strictObject({
    proxy: v.optional(notArray(v.partial(proxySettings))),
    desktop: v.optional(notArray(v.partial(desktopSettings))),
  }),
  'network.addresses': noInput,
  'app.info': noInput,
} satisfies { [M in MethodName]: v.GenericSchema<unknown, GateRequest<M>> };
