/**
 * What the browser scenarios share: screenshots at both widths (with the 375 px layout and label
 * checks), section navigation, waiting for text and posting an Antavo webhook.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SECRETS } from "./local-relay.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ARTIFACTS = join(ROOT, "test-artifacts", "browser");
export const WIDTHS = [375, 1440];
export const STEP_TIMEOUT_MS = 15_000;

export const log = (message) => console.log(`[browser] ${message}`);

let shot = 0;
export const layoutProblems = [];

export async function screenshots(page, name) {
  shot += 1;
  const original = page.viewportSize();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    // Readable at 375 px means no sideways scrolling of the page itself (wide tables scroll inside their box).
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    if (scrollWidth > width) layoutProblems.push(`${name} at ${width} px is ${scrollWidth} px wide`);
    if (width === WIDTHS[0]) {
      // Every visible control needs an accessible name from a <label> (or aria-label).
      const unlabeled = await page.evaluate(() =>
        [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
          .filter(
            (el) =>
              !el.closest("template") &&
              el.getAttribute("aria-hidden") !== "true" &&
              el.labels.length === 0 &&
              !el.getAttribute("aria-label"),
          )
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      for (const control of unlabeled) layoutProblems.push(`${name}: control without a label: ${control}`);
      const duplicates = await page.evaluate(() => {
        const ids = [...document.querySelectorAll("[id]")].filter((el) => !el.closest("template")).map((el) => el.id);
        return ids.filter((id, index) => ids.indexOf(id) !== index);
      });
      for (const id of duplicates) layoutProblems.push(`${name}: duplicate id ${id}`);
    }
    await page.screenshot({
      path: join(ARTIFACTS, `${String(shot).padStart(2, "0")}-${name}-${width}.png`),
      fullPage: true,
    });
  }
  await page.setViewportSize(original);
}

/** A section link of the side navigation (other links share some names). */
export const nav = (page, name) =>
  page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name, exact: true }).click();

export async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
}

export async function postWebhook(relayUrl, event) {
  const auth = Buffer.from(`${SECRETS.WEBHOOK_BASIC_USER}:${SECRETS.WEBHOOK_BASIC_PASSWORD}`).toString("base64");
  const response = await fetch(`${relayUrl}/webhooks/antavo`, {
    method: "POST",
    headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
    body: JSON.stringify(event),
  });
  assert.equal(response.status, 202, `webhook answered ${response.status}: ${await response.text()}`);
}
