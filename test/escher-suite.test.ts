/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { antavoEscherConfig, type EscherConfig, escherSign } from "../src/antavo/signer";

/*
 * Emarsys' published Escher test cases (EscherAuth/test-cases; source, commits and licence in
 * test/data/escher/README.md), run through src/antavo/signer.ts twice:
 *
 *  1. with the case's own config (AWS4 / EMS prefix and scope): canonical request, string to sign and
 *     Authorization header must equal the published ones exactly;
 *  2. re-signed as Antavo signs (antavoEscherConfig: prefix ANTAVO, vendor key Antavo, scope
 *     <environment>/api/antavo_request): the canonical request must still equal the published one,
 *     and the string to sign must equal the published one with two lines substituted, derived in
 *     `antavoStringToSign` below:
 *        line 1  AWS4-HMAC-SHA256                       -> ANTAVO-HMAC-SHA256
 *        line 3  20110909/us-east-1/host/aws4_request   -> 20110909/<environment>/api/antavo_request
 *     (line 2, the long date, and line 4, the hash of the canonical request, stay as published). The
 *     Antavo signature itself has no published value; the fixed vectors in antavo-signer.test.ts cover it.
 *
 * Escher always signs `host` and its date header besides the case's `headersToSign`, so the test adds
 * both (`signedHeadersOf`). Error cases must be refused; the published error text is in the title.
 */

interface SuiteCase {
  title?: string;
  headersToSign: string[];
  request: { method: string; url: string; headers: [string, string][]; body?: string };
  config: {
    algoPrefix: string;
    vendorKey: string;
    hashAlgo: string;
    credentialScope: string;
    accessKeyId: string;
    apiSecret?: string;
    dateHeaderName: string;
    date: string;
  };
  expected: {
    canonicalizedRequest?: string;
    stringToSign?: string;
    authHeader?: string;
    error?: string;
  };
}

const files = import.meta.glob<SuiteCase>("./data/escher/**/*.json", { eager: true, import: "default" });
const cases = Object.entries(files)
  .map(([path, testCase]) => ({ name: path.replace("./data/escher/", ""), testCase }))
  .sort((a, b) => (a.name < b.name ? -1 : 1));

/** Cases the Antavo variant cannot express, with the reason; every other case runs. */
const SKIPPED: Record<string, string> = {
  "emarsys_testsuite/signrequest-date-header-should-be-signed-headers.json":
    "checks that Escher adds an HTTP-date `Date` header when the request has none; Antavo's signer always " +
    "sets `date` itself, to the long date (antavo-signer.test.ts), so the published header value cannot apply " +
    "(the case publishes no canonical request or string to sign either)",
};

/** What the signer must say for each published error, so a case cannot pass by failing for another reason. */
const ERRORS: Record<string, RegExp> = {
  "The request method is invalid": /^Escher: the request method "INVALID" is invalid$/,
  "The request url shouldn't contains http or https": /^Escher: the request target "http:\/\/" must be a path/,
  "Invalid Escher key": /^Escher: the API secret is empty$/,
};

const ENVIRONMENT = "demo";

function suiteConfig(config: SuiteCase["config"]): EscherConfig {
  return {
    algoPrefix: config.algoPrefix,
    vendorKey: config.vendorKey,
    credentialScope: config.credentialScope,
    accessKeyId: config.accessKeyId,
    apiSecret: config.apiSecret ?? "",
  };
}

function signedHeadersOf(testCase: SuiteCase): string[] {
  return [...testCase.headersToSign, "host", testCase.config.dateHeaderName];
}

function requestOf(testCase: SuiteCase) {
  const { method, url, headers, body } = testCase.request;
  return { method, target: url, headers, ...(body === undefined ? {} : { body }) };
}

function antavoStringToSign(published: string): string {
  const [algorithm, longDate, scope, hash, ...rest] = published.split("\n");
  expect(rest).toEqual([]);
  expect(algorithm).toMatch(/^[A-Z0-9]+-HMAC-SHA256$/);
  const shortDate = (scope ?? "").split("/")[0];
  return ["ANTAVO-HMAC-SHA256", longDate, `${shortDate}/${ENVIRONMENT}/api/antavo_request`, hash].join("\n");
}

describe("Escher published test cases", () => {
  it("loads the checked-in cases, and every skip names one of them", () => {
    expect(cases.length).toBe(43);
    for (const name of Object.keys(SKIPPED)) expect(cases.map((c) => c.name)).toContain(name);
    // All published signing cases use SHA-256, the only hash the signer implements.
    for (const { testCase } of cases) expect(testCase.config.hashAlgo).toBe("SHA256");
  });

  for (const { name, testCase } of cases) {
    const skipped = SKIPPED[name];
    if (skipped !== undefined) {
      it.skip(`${name} (skipped: ${skipped})`, () => {});
      continue;
    }
    const { expected } = testCase;
    const now = new Date(testCase.config.date);

    if (expected.error !== undefined) {
      it(`${name}: refused (published error: "${expected.error}")`, async () => {
        await expect(
          escherSign(requestOf(testCase), signedHeadersOf(testCase), suiteConfig(testCase.config), now),
        ).rejects.toThrow(ERRORS[expected.error ?? ""] ?? /no expected message listed for this error/);
      });
      continue;
    }

    it(`${name}: canonical request, string to sign and Authorization as published`, async () => {
      const signature = await escherSign(
        requestOf(testCase),
        signedHeadersOf(testCase),
        suiteConfig(testCase.config),
        now,
      );
      expect(signature.canonicalRequest).toBe(expected.canonicalizedRequest);
      expect(signature.stringToSign).toBe(expected.stringToSign);
      expect(signature.authorization).toBe(expected.authHeader);
    });

    it(`${name}: re-signed the Antavo way, same canonical request, Antavo's string to sign`, async () => {
      const config = antavoEscherConfig({
        environment: ENVIRONMENT,
        apiKey: testCase.config.accessKeyId,
        apiSecret: testCase.config.apiSecret ?? "",
      });
      const signature = await escherSign(requestOf(testCase), signedHeadersOf(testCase), config, now);
      expect(signature.canonicalRequest).toBe(expected.canonicalizedRequest);
      expect(signature.stringToSign).toBe(antavoStringToSign(expected.stringToSign ?? ""));
      expect(signature.authorization).toMatch(
        new RegExp(
          `^ANTAVO-HMAC-SHA256 Credential=${testCase.config.accessKeyId}/\\d{8}/${ENVIRONMENT}/api/antavo_request, ` +
            `SignedHeaders=${signature.signedHeaders}, Signature=[0-9a-f]{64}$`,
        ),
      );
    });
  }
});
