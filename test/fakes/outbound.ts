/**
 * Routes the Worker's global `fetch` to vendor fakes by origin, for code that does not take an
 * injected fetch. Fails closed: any other origin throws, and because the caller may swallow that
 * as a network error, `restore()` throws too when such a request happened.
 */
import { vi } from "vitest";

export interface OutboundFake {
  origin: string;
  fetch: typeof fetch;
}

export function installOutboundFakes(...fakes: OutboundFake[]): () => void {
  const byOrigin = new Map(fakes.map((f) => [new URL(f.origin).origin, f]));
  const stray: string[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const fake = byOrigin.get(url.origin);
    if (!fake) {
      const method = init?.method ?? (input instanceof Request ? input.method : "GET");
      stray.push(`${method} ${url.href}`);
      throw new Error(`installOutboundFakes: no fake for outbound request ${method} ${url.origin}${url.pathname}`);
    }
    return fake.fetch(input, init);
  });
  return () => {
    spy.mockRestore();
    if (stray.length > 0) throw new Error(`unexpected outbound requests:\n- ${stray.join("\n- ")}`);
  };
}
