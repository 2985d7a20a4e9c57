/**
 * The two scripted failures below HTTP that both vendor fakes play: a connection reset, and a call
 * that never answers until the caller's AbortSignal fires (a timeout). A call with no signal would
 * hang forever, so it is flagged instead.
 */
export type TransportFault = { kind: "timeout" } | { kind: "reset" };

export function playTransportFault(
  fault: TransportFault,
  signal: AbortSignal | null | undefined,
  flag: (message: string) => void,
  who: string,
): Promise<Response> {
  if (fault.kind === "reset") return Promise.reject(new TypeError("Network connection lost."));
  if (!signal) {
    flag("scripted timeout but the request has no AbortSignal (it would hang forever)");
    return Promise.reject(new TypeError(`${who}: request without AbortSignal`));
  }
  return new Promise<Response>((_, reject) => {
    const abort = () => reject(signal.reason ?? new DOMException("The operation was aborted", "AbortError"));
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  });
}
