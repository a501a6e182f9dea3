import { networkInterfaces } from 'node:os';

/** This machine's non-loopback IPv4 addresses: where LAN clients can reach the gate. */
export function lanAddresses(): string[] {
  const addresses: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) addresses.push(entry.address);
    }
  }
  return addresses;
}

/** The URLs a listener on host:port answers on, loopback first. */
export function listeningUrls(host: string, port: number, scheme: 'http' | 'https' = 'http'): string[] {
  if (host === '0.0.0.0' || host === '::') {
    return [`${scheme}://127.0.0.1:${port}`, ...lanAddresses().map((a) => `${scheme}://${a}:${port}`)];
  }
  return [`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`];
}

/** `::ffff:192.168.1.5` is how an IPv4 client appears on a dual-stack socket; sessions key on the plain form. */
/**
 * An address as someone typed it (`FE80:0:0:0:0:0:0:1`, `::FFFF:10.0.0.1`) in the form the gate
 * records a client's address in (`fe80::1`, `10.0.0.1`), so an admin's unlock finds its entry.
 */
export function canonicalIp(address: string): string {
  const ip = normalizeIp(address.trim().toLowerCase());
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip; // (a zone id such as %eth0, which URLs do not take)
  }
}

export function normalizeIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
