import { isIP } from 'node:net';

/** 4 or 6 for an address in CIDR form (`10.0.0.5/24`), 0 for anything else. */
export function cidrFamily(text: string): 0 | 4 | 6 {
  const slash = text.indexOf('/');
  if (slash < 0) return 0;
  const family = ipFamily(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return 0;
  return Number(prefix) <= (family === 4 ? 32 : 128) ? family : 0;
}

/** 4 or 6 for a bare IP address, 0 for anything else. */
export function ipFamily(text: string): 0 | 4 | 6 {
  const family = isIP(text);
  return family === 4 || family === 6 ? family : 0;
}
