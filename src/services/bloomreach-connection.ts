/**
 * Saving and testing the Bloomreach connection. Both can end a pause (after a 401/403, or while no
 * connection existed): saving because the admin fixed it, a passing test because it proves so.
 * Either way the events parked meanwhile go back on the queue.
 */
import { type ConnectionTestResult, createBloomreachClient } from "../bloomreach/client";
import { readMapping } from "../db/config-queries";
import { checkVendorBaseUrl } from "../domain/outbound-url";
import {
  type BloomreachConnectionInput,
  type ConnectionDeps,
  loadBloomreachCredentials,
  putBloomreachConnection,
  resumeBloomreachDelivery,
} from "./config";
import { type DeliveriesDeps, requeueParked } from "./deliveries";

/** A customer id no real customer has; Bloomreach answers a lookup of it without side effects. */
const PROBE_CUSTOMER = "antavo-bloomreach-relay-connection-test";

export async function saveBloomreachConnection(
  deps: ConnectionDeps & DeliveriesDeps,
  input: BloomreachConnectionInput,
) {
  const connection = await putBloomreachConnection(deps, input);
  const requeued = await requeueParked(deps);
  return { ...connection, ...(requeued > 0 ? { requeued } : {}) };
}

/**
 * Reachability (URL + token), credentials, and Get permission, each reported with its reason. A
 * base URL saved before hosts were checked is not called when it would be refused today.
 */
export async function testBloomreachConnection(
  deps: ConnectionDeps & DeliveriesDeps & { fetch: typeof fetch },
): Promise<ConnectionTestResult & { resumed?: number }> {
  const credentials = await loadBloomreachCredentials(deps);
  const notRun = (message: string): ConnectionTestResult => ({
    ok: false,
    checks: [{ name: "reachability", ok: false, message }],
  });
  if (!credentials) return notRun("no connection is saved yet: PUT /api/connection first");
  const host = checkVendorBaseUrl("bloomreach", credentials.baseUrl, { environment: deps.environment });
  if (!host.ok) return notRun(`not called: the saved base URL ${host.message}; save the connection again`);
  const mapping = await readMapping(deps.db);
  const client = createBloomreachClient(credentials, { fetch: deps.fetch });
  const result = await client.testConnection({ [mapping.hardId?.remoteId ?? "registered"]: PROBE_CUSTOMER });
  if (result.ok && credentials.paused) {
    await resumeBloomreachDelivery(deps);
    return { ...result, resumed: await requeueParked(deps) };
  }
  return result;
}
