import { z } from 'zod';
import type { DesktopSettings, GateRequest, MethodName, ProxySettings } from '../shared/contract.js';

/**
 * One input schema per GateApi method, shared by every transport (IPC, admin HTTP): whatever a
 * window sends is parsed here before the service sees it. Objects are strict, so a misspelt field
 * is an error rather than silently ignored. The `satisfies` below makes a method without a schema,
 * or a schema that parses to something other than the method's request type, a compile error.
 */

/** Methods that take nothing accept nothing, an empty object or null (what an HTTP client may send). */
const noInput = z
  .union([z.undefined(), z.null(), z.strictObject({})])
  .transform((): void => undefined);

/** Optional-input methods: absent or null means all defaults. */
function optionalInput<T extends z.ZodType<object>>(schema: T) {
  return z.union([z.undefined(), z.null(), schema]).transform((value): z.output<T> | undefined => value ?? undefined);
}

const id = z.string().trim().min(1, 'an id is required').max(64);
const user = z.string().trim().min(1, 'a key needs a user name').max(100, 'at most 100 characters');
const positiveLimit = (what: string) =>
  z.number().int(`${what} must be a whole number`).positive(`${what} must be above 0, or empty for no limit`).max(1e12).nullable();

const keyFields = z.strictObject({
  user,
  name: z.string().trim().max(100, 'at most 100 characters').nullable().transform((n) => (n ? n : null)),
  scope: z.enum(['inference', 'full']),
  models: z
    .array(z.string().trim().min(1, 'a model pattern cannot be empty').max(200).regex(/^[^\s]+$/, 'a model pattern has no spaces'))
    .max(200)
    .transform((models) => [...new Set(models)]),
  rpm: positiveLimit('requests per minute'),
  concurrency: positiveLimit('concurrent requests'),
  dailyTokens: positiveLimit('tokens per day'),
  expiresAt: z.number().int().positive().nullable(),
});

const optionalKeyFields = keyFields.partial();

const port = z.number().int('the port is a whole number').min(0).max(65535, 'ports go up to 65535');

/** a PEM file's path, or null for the self-signed pair */
const pemFile = z.string().trim().min(1).max(4096).nullable();

/** The proxy settings' fields, once: strict for what a window sends, lenient for what the store file holds. */
export const proxySettingsFields = {
  host: z
    .string()
    .trim()
    .min(1, 'an address to listen on is required')
    .refine((host) => /^[0-9a-fA-F:.]+$/.test(host) || /^[a-zA-Z0-9.-]+$/.test(host), 'an IP address or host name, such as 0.0.0.0 or 127.0.0.1'),
  port,
  upstream: z.url({ protocol: /^https?$/, error: "Ollama's URL, such as http://127.0.0.1:11434" }),
  sessionTtlSeconds: z.number().int().min(0, '0 turns IP sessions off').max(30 * 24 * 3600, 'at most 30 days'),
  corsOrigins: z.array(z.string().trim().min(1).max(300)).max(100),
  maxInspectBytes: z.number().int().min(1024 * 1024, 'at least 1 MiB').max(1024 * 1024 * 1024),
  upstreamHeadersTimeoutMs: z.number().int().min(0),
  upstreamBodyTimeoutMs: z.number().int().min(0),
  upstreamConnectTimeoutMs: z.number().int().min(1),
  maxHeaderBytes: z.number().int().min(1024, 'at least 1 KiB').max(1024 * 1024),
  clientHeadersTimeoutMs: z.number().int().min(100, 'at least 100 ms'),
  maxBodyBytes: z.number().int().min(0, '0 means no limit'),
  logRequestBodies: z.boolean(),
  lockoutMaxFailures: z.number().int().min(0, '0 turns lockout off').max(10_000),
  lockoutWindowSeconds: z.number().int().min(1).max(24 * 3600),
  lockoutCooldownSeconds: z.number().int().min(1).max(7 * 24 * 3600),
  tlsEnabled: z.boolean(),
  tlsPort: port,
  tlsCertFile: pemFile,
  tlsKeyFile: pemFile,
};

export const proxySettingsSchema = z.strictObject(proxySettingsFields) satisfies z.ZodType<ProxySettings>;

const desktopSettings = z.strictObject({
  startOnLaunch: z.boolean(),
  launchAtLogin: z.boolean(),
  showInDock: z.boolean(),
  language: z.enum(['system', 'en', 'zh-CN']),
}) satisfies z.ZodType<DesktopSettings>;

/** YYYY-MM-DD */
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD');

export const methodSchemas = {
  'keys.list': noInput,
  'keys.create': optionalKeyFields.extend({ user, enabled: z.boolean().optional() }),
  'keys.update': optionalKeyFields.extend({ id }),
  'keys.setEnabled': z.strictObject({ id, enabled: z.boolean() }),
  'keys.rotate': z.strictObject({ id }),
  'keys.remove': z.strictObject({ id }),
  'sessions.list': noInput,
  'sessions.revoke': z.strictObject({ ip: z.string().trim().min(1).max(64) }),
  'usage.query': optionalInput(z.strictObject({ since: day.optional(), keyId: id.optional() })),
  'logs.recent': optionalInput(
    z.strictObject({ limit: z.number().int().min(1).max(100_000).optional(), after: z.number().int().min(0).optional() }),
  ),
  'health.get': noInput,
  'health.check': noInput,
  'proxy.status': noInput,
  'proxy.start': noInput,
  'proxy.stop': noInput,
  'proxy.test': optionalInput(z.strictObject({ key: z.string().min(1).max(500).optional() })),
  'settings.get': noInput,
  'settings.update': z.strictObject({ proxy: proxySettingsSchema.partial().optional(), desktop: desktopSettings.partial().optional() }),
  'network.addresses': noInput,
  'app.info': noInput,
} satisfies { [M in MethodName]: z.ZodType<GateRequest<M>> };

export type MethodSchemas = typeof methodSchemas;
