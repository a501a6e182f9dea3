import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lanAddresses } from './network.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint (AA:BB:…), what clients pin a self-signed certificate by */
  fingerprint256: string;
  /** where the certificate came from */
  certFile: string;
  selfSigned: boolean;
}

/**
 * The certificate for the HTTPS listener: the user's own files when given, else a self-signed one
 * made on first use and kept in the data directory, so its fingerprint stays the same across runs.
 */
export async function loadTlsMaterial(options: { certFile: string | null; keyFile: string | null; dataDir: string }): Promise<TlsMaterial> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) throw new Error('HTTPS needs both a certificate file and a key file');
    // One after the other, so when both are missing the message always names the certificate.
    const cert = await readPem(options.certFile, 'certificate');
    const key = await readPem(options.keyFile, 'private key');
    return { cert, key, fingerprint256: fingerprintOf(cert, options.certFile), certFile: options.certFile, selfSigned: false };
  }
  const dir = join(options.dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const made = await makeSelfSigned();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(keyFile, made.key, { mode: 0o600 });
    await writeFile(certFile, made.cert, { mode: 0o600 });
  }
  // The pair the gate keeps is this user's alone (an earlier version left the certificate 0644).
  await Promise.all([chmod(dir, 0o700), chmod(keyFile, 0o600), chmod(certFile, 0o600)]).catch(() => undefined);
  const cert = await readPem(certFile, 'certificate');
  const key = await readPem(keyFile, 'private key');
  return { cert, key, fingerprint256: fingerprintOf(cert, certFile), certFile, selfSigned: true };
}

async function makeSelfSigned(): Promise<{ cert: string; key: string }> {
  const notBefore = new Date();
  const notAfter = new Date(notBefore);
  notAfter.setFullYear(notAfter.getFullYear() + 5);
  const altNames = [
    { type: 2 as const, value: 'localhost' },
    { type: 2 as const, value: hostname() },
    { type: 7 as const, ip: '127.0.0.1' },
    ...lanAddresses().map((ip) => ({ type: 7 as const, ip })),
  ];
  // Loaded here, not at startup: it is large (~8 MB resident) and only HTTPS ever needs it, once.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: `Ollama Gate on ${hostname()}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the HTTPS ${what} ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function fingerprintOf(cert: string, file: string): string {
  try {
    return new X509Certificate(cert).fingerprint256;
  } catch (error) {
    throw new Error(`${file} is not a PEM certificate: ${(error as Error).message}`, { cause: error });
  }
}
