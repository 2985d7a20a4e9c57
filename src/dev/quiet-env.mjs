/**
 * The environment for running wrangler unattended and offline: no prompts, telemetry, update
 * checks, or fetch of the `cf` object from Cloudflare (Miniflare then uses its placeholder).
 */
export function quietWranglerEnv(extra = {}) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    NO_UPDATE_NOTIFIER: "1",
    ...extra,
  };
}
