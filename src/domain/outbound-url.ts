/**
 * Which vendor base URLs the relay may send credentials to. The relay sends a stored secret to
 * whatever host is configured, so a base URL is an origin only (https, no credentials, no path,
 * query or fragment) and never an address inside a network: private, link-local (the cloud
 * metadata address 169.254.169.254), loopback or unspecified IP literals are refused. Loopback
 * names and addresses (and plain http to them) are accepted only when ENVIRONMENT is `local`, for
 * the local Bloomreach sandbox of `npm start`. Antavo's API lives on `*.antavo.com` only.
 *
 * Host names are not resolved (a Worker cannot), so a public name that resolves to a private
 * address is not caught here; the platform's own egress rules are the layer below this one.
 */

export type Vendor = "bloomreach" | "antavo";

export interface OutboundUrlPolicy {
  /** The relay's ENVIRONMENT (`local`, `staging`, `production`). */
  environment: string;
}

export type OutboundUrlCheck = { ok: true; origin: string } | { ok: false; message: string };

const LOCAL_ENVIRONMENT = "local";

type HostKind =
  | "name"
  | "single-label"
  | "loopback"
  | "private"
  | "link-local"
  | "unspecified"
  | "reserved"
  | "public-ip";

/**
 * Checks a vendor base URL and answers its normalised origin (lower-case host, default port
 * dropped, no trailing slash), which is what the relay stores and compares.
 */
export function checkVendorBaseUrl(vendor: Vendor, raw: string, policy: OutboundUrlPolicy): OutboundUrlCheck {
  const refuse = (message: string): OutboundUrlCheck => ({ ok: false, message });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("must be an absolute URL such as https://api.example.com");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return refuse("must be an https URL");
  if (url.username !== "" || url.password !== "") {
    return refuse("must not contain a user name or password: credentials go in their own fields");
  }
  if (url.search !== "" || url.hash !== "") return refuse("must be an origin only: no query (?…) or fragment (#…)");
  if (url.pathname !== "/" && url.pathname !== "") {
    return refuse("must be an origin only (https://host or https://host:port), without a path");
  }

  const local = policy.environment === LOCAL_ENVIRONMENT;
  const kind = classifyHost(url.hostname);
  if (kind === "loopback" && !local) {
    return refuse("must not point at this machine (localhost, 127.0.0.0/8, [::1]) outside the local environment");
  }
  const refusedRanges: Partial<Record<HostKind, string>> = {
    private: "a private network address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)",
    "link-local": "a link-local address (169.254/16, fe80::/10), where cloud metadata services live",
    unspecified: "the unspecified address (0.0.0.0/8, [::])",
    reserved: "a reserved, multicast or documentation address",
    "single-label": "a single-label host name, which only resolves inside a network",
  };
  const range = refusedRanges[kind];
  if (range !== undefined) return refuse(`must not be ${range}: use the vendor's public API host`);
  if (url.protocol === "http:" && !(local && kind === "loopback")) {
    return refuse("must use https (plain http is accepted only for a loopback host in the local environment)");
  }
  if (vendor === "antavo" && kind !== "loopback" && !isAntavoHost(url.hostname)) {
    return refuse("must be an Antavo API host: https://api.<environment>.antavo.com");
  }
  return { ok: true, origin: url.origin };
}

/** The normalised origin of a stored or submitted base URL, or undefined when it is not a URL. */
export function originOf(raw: string): string | undefined {
  try {
    return new URL(raw).origin;
  } catch {
    return undefined;
  }
}

const ANTAVO_HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+antavo\.com$/;

function isAntavoHost(hostname: string): boolean {
  return ANTAVO_HOST.test(hostname.endsWith(".") ? hostname.slice(0, -1) : hostname);
}

/** `hostname` as the WHATWG URL parser leaves it: lower case, IPv4 in dotted quads, IPv6 in brackets. */
function classifyHost(rawHostname: string): HostKind {
  // `localhost.` is `localhost`: a trailing dot only marks the name as fully qualified.
  const hostname = rawHostname.endsWith(".") ? rawHostname.slice(0, -1) : rawHostname;
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return "loopback";
  const v4 = parseIpv4(hostname);
  if (v4 !== undefined) return classifyIpv4(v4);
  if (hostname.startsWith("[") && hostname.endsWith("]")) {
    const v6 = parseIpv6(hostname.slice(1, -1));
    return v6 === undefined ? "reserved" : classifyIpv6(v6);
  }
  // A single label (`metadata`, `intranet`) only resolves inside a network; vendor APIs have dots.
  return hostname.includes(".") ? "name" : "single-label";
}

function parseIpv4(hostname: string): number | undefined {
  // The URL parser already turned 0x7f.1, 2130706433 and the like into dotted quads.
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** [first address, prefix length, kind]; the first match wins, anything else is public. */
const IPV4_RANGES: [string, number, HostKind][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "private"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"],
  ["198.51.100.0", 24, "reserved"],
  ["203.0.113.0", 24, "reserved"],
  ["224.0.0.0", 4, "reserved"],
  ["240.0.0.0", 4, "reserved"],
];

function classifyIpv4(address: number): HostKind {
  for (const [first, prefix, kind] of IPV4_RANGES) {
    const size = 2 ** (32 - prefix);
    const start = parseIpv4(first) as number;
    if (address >= start && address < start + size) return kind;
  }
  return "public-ip";
}

/** Eight 16-bit groups, or undefined. The URL parser has validated and compressed the address. */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...new Array(fill).fill(0), ...tail];
  if (all.length !== 8 || all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  return all;
}

function classifyIpv6(g: number[]): HostKind {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embeddedV4 = (hi: number, lo: number) => classifyIpv4(hi * 65536 + lo);
  const firstSixZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  if (firstSixZero && g6 === 0 && g7 === 0) return "unspecified";
  if (firstSixZero && g6 === 0 && g7 === 1) return "loopback";
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible) reach the IPv4 address inside them.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) {
    return embeddedV4(g6, g7);
  }
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) also carry an IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return embeddedV4(g6, g7);
  if (g0 === 0x2002) return embeddedV4(g1, g2);
  if ((g0 & 0xfe00) === 0xfc00) return "private";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "private";
  if (g0 === 0x2001 && g1 === 0x0db8) return "reserved";
  // Only global unicast (2000::/3) is a public address; multicast and the rest are not.
  if ((g0 & 0xe000) !== 0x2000) return "reserved";
  return "public-ip";
}
