/**
 * Whether another device could open this URL: not a loopback address (127.0.0.0/8, ::1, localhost),
 * which on a phone would mean the phone itself. Only such URLs get a QR code.
 */
export function reachableFromLan(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return !(host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host));
}
