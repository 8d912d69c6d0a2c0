import { ErrorCode } from '../errors';
import { cidrFamily, ipFamily } from '../ip-text';
import { FieldReader, type JsonObject } from '../json-fields';
import type { SpecVersion } from '../versions';
import { resultFormat } from './format';
import type { Dns, Interface, IpConfig, Result, Route } from './types';

/**
 * Reads a result written in the shape of `version` into the internal type. Unknown keys are
 * ignored, as libcni does, and so are 1.1.0-only fields in an older shape. Unlike libcni, an
 * `interface` index outside `interfaces` and a `version` that contradicts the address are errors.
 */
export function decodeResult(
  wire: unknown,
  version: SpecVersion,
  options: { source: string; code?: number },
): Result {
  const read = new FieldReader(options.code ?? ErrorCode.decodingFailure, options.source);
  const obj = read.object(wire, '');
  const format = resultFormat(version);
  if (format === 'legacy') return decodeLegacy(obj, read);
  const full = format === 'v1.1';
  const interfaces = (
    obj.interfaces === undefined ? [] : read.array(obj.interfaces, '.interfaces')
  ).map((v, i) => decodeInterface(v, `.interfaces[${i}]`, { read, full }));
  const ips = (obj.ips === undefined ? [] : read.array(obj.ips, '.ips')).map((v, i) =>
    decodeIp(v, `.ips[${i}]`, {
      read,
      interfaceCount: interfaces.length,
      versioned: format === 'versioned-ips',
    }),
  );
  const routes = (obj.routes === undefined ? [] : read.array(obj.routes, '.routes')).map((v, i) =>
    decodeRoute(v, `.routes[${i}]`, { read, full }),
  );
  return { interfaces, ips, routes, dns: decodeDns(obj.dns, read) };
}

function decodeInterface(
  value: unknown,
  path: string,
  ctx: { read: FieldReader; full: boolean },
): Interface {
  const { read, full } = ctx;
  const obj = read.object(value, path);
  const out: Interface = { name: read.string(obj.name, `${path}.name`) };
  assign(out, 'mac', read.optionalString(obj.mac, `${path}.mac`));
  assign(out, 'sandbox', read.optionalString(obj.sandbox, `${path}.sandbox`));
  if (full) {
    assign(out, 'mtu', read.optionalCount(obj.mtu, `${path}.mtu`));
    assign(out, 'socketPath', read.optionalString(obj.socketPath, `${path}.socketPath`));
    assign(out, 'pciID', read.optionalString(obj.pciID, `${path}.pciID`));
  }
  return out;
}

function decodeIp(
  value: unknown,
  path: string,
  ctx: { read: FieldReader; interfaceCount: number; versioned: boolean },
): IpConfig {
  const { read } = ctx;
  const obj = read.object(value, path);
  const address = readCidr(read, obj.address, `${path}.address`);
  const family = cidrFamily(address);
  const out: IpConfig = { address };
  assign(out, 'gateway', readGateway(read, obj.gateway, `${path}.gateway`, family));
  const index = read.optionalCount(obj.interface, `${path}.interface`);
  if (index !== undefined && index >= ctx.interfaceCount) {
    throw read.fail(
      `${path}.interface`,
      `index ${index} is outside interfaces (${ctx.interfaceCount} listed)`,
    );
  }
  assign(out, 'interface', index);
  if (ctx.versioned && obj.version !== undefined && obj.version !== String(family)) {
    throw read.fail(
      `${path}.version`,
      `${JSON.stringify(obj.version)} does not match address ${address}`,
    );
  }
  return out;
}

function decodeRoute(
  value: unknown,
  path: string,
  ctx: { read: FieldReader; full: boolean },
): Route {
  const { read, full } = ctx;
  const obj = read.object(value, path);
  const dst = readCidr(read, obj.dst, `${path}.dst`);
  const out: Route = { dst };
  assign(out, 'gw', readGateway(read, obj.gw, `${path}.gw`, cidrFamily(dst)));
  if (full) {
    assign(out, 'mtu', read.optionalCount(obj.mtu, `${path}.mtu`));
    assign(out, 'advmss', read.optionalCount(obj.advmss, `${path}.advmss`));
    assign(out, 'priority', read.optionalCount(obj.priority, `${path}.priority`));
    assign(out, 'table', read.optionalCount(obj.table, `${path}.table`));
    assign(out, 'scope', read.optionalCount(obj.scope, `${path}.scope`));
  }
  return out;
}

function decodeDns(value: unknown, read: FieldReader): Dns {
  if (value === undefined) return {};
  const obj = read.object(value, '.dns');
  const out: Dns = {};
  assign(out, 'nameservers', read.optionalStrings(obj.nameservers, '.dns.nameservers'));
  assign(out, 'domain', read.optionalString(obj.domain, '.dns.domain'));
  assign(out, 'search', read.optionalStrings(obj.search, '.dns.search'));
  assign(out, 'options', read.optionalStrings(obj.options, '.dns.options'));
  return out;
}

function decodeLegacy(obj: JsonObject, read: FieldReader): Result {
  const result: Result = { interfaces: [], ips: [], routes: [], dns: decodeDns(obj.dns, read) };
  for (const key of ['ip4', 'ip6'] as const) {
    if (obj[key] === undefined) continue;
    const section = read.object(obj[key], `.${key}`);
    const address = readCidr(read, section.ip, `.${key}.ip`);
    const family = cidrFamily(address);
    if (`ip${family}` !== key)
      throw read.fail(`.${key}.ip`, `${address} is not an IPv${key.slice(2)} address`);
    const ip: IpConfig = { address };
    assign(ip, 'gateway', readGateway(read, section.gateway, `.${key}.gateway`, family));
    result.ips.push(ip);
    const routes = section.routes === undefined ? [] : read.array(section.routes, `.${key}.routes`);
    routes.forEach((r, i) =>
      result.routes.push(decodeRoute(r, `.${key}.routes[${i}]`, { read, full: false })),
    );
  }
  return result;
}

function readCidr(read: FieldReader, value: unknown, path: string): string {
  const text = read.string(value, path);
  if (cidrFamily(text) === 0)
    throw read.fail(path, `${JSON.stringify(text)} is not an address in CIDR form`);
  return text;
}

function readGateway(
  read: FieldReader,
  value: unknown,
  path: string,
  family: number,
): string | undefined {
  const text = read.optionalString(value, path);
  if (text === undefined) return undefined;
  if (ipFamily(text) !== family) {
    throw read.fail(path, `${JSON.stringify(text)} is not an IPv${family} address`);
  }
  return text;
}

// exactOptionalPropertyTypes forbids `{mac: undefined}`; set a key only when there is a value.
function assign<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | undefined,
): void {
  if (value !== undefined) target[key] = value;
}
