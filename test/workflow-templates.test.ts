import { describe, expect, it } from "vitest";
import { renderProperties, renderValue, templateProblems, templateRoots } from "../src/domain/workflow/templates";

const scope = {
  event: {
    tier: "Gold",
    points: 150,
    total: "12.50",
    items: [{ id: 1 }, { id: 2 }],
    meta: { store: "Oslo" },
    zero: 0,
    off: false,
    none: null,
  },
  customer: { first_name: "Ada", score: 1200, tiers: [{ name: "Silver" }] },
  claim: { coupon: { code: "BDAY-1", value: 10 } },
  now: 1_750_000_000,
};

describe("template rendering", () => {
  it("keeps the raw value of a whole placeholder", () => {
    expect(renderValue("{{event.points}}", scope)).toBe(150);
    expect(renderValue("{{event.meta}}", scope)).toEqual({ store: "Oslo" });
    expect(renderValue("{{event.zero}}", scope)).toBe(0);
    expect(renderValue("{{event.off}}", scope)).toBe(false);
    expect(renderValue("{{event.none}}", scope)).toBeNull();
    expect(renderValue(" {{ now }} ", scope)).toBe(1_750_000_000);
    expect(renderValue("{{customer.tier}}", scope)).toBe("Silver");
    expect(renderValue("{{claim.coupon.value}}", scope)).toBe(10);
  });

  it("makes a whole placeholder with a missing path absent", () => {
    expect(renderValue("{{event.missing}}", scope)).toBeUndefined();
    expect(renderValue("{{claim.coupon.code}}", { ...scope, claim: undefined })).toBeUndefined();
    const rendered = renderProperties(
      { a: "{{event.missing}}", b: "{{event.tier}}", c: "{{event.meta.store.x}}" },
      scope,
    );
    expect(rendered).toEqual({ b: "Gold" });
    expect("a" in rendered).toBe(false);
  });

  it("renders missing paths inside text as empty, never 'undefined'", () => {
    expect(renderValue("Hi {{customer.first_name}} {{customer.last_name}}!", scope)).toBe("Hi Ada !");
    expect(renderValue("[{{event.none}}]", scope)).toBe("[]");
    expect(renderValue("{{event.points}} points at {{now}}", scope)).toBe("150 points at 1750000000");
    expect(renderValue("store={{event.meta}}", scope)).toBe('store={"store":"Oslo"}');
    expect(renderValue("{{event.tier}}{{event.points}}", scope)).toBe("Gold150");
  });

  it("recurses through objects and arrays, dropping absent entries", () => {
    const rendered = renderProperties(
      {
        nested: { tier: "{{event.tier}}", gone: "{{event.nope}}" },
        list: ["{{event.points}}", "{{event.nope}}", "x {{event.nope}}"],
        n: 5,
        t: true,
      },
      scope,
    );
    expect(rendered).toEqual({ nested: { tier: "Gold" }, list: [150, "x "], n: 5, t: true });
  });

  it("counts arrays with |count and treats a non-array as missing", () => {
    expect(renderValue("{{event.items|count}}", scope)).toBe(2);
    expect(renderValue("{{event.tier|count}}", scope)).toBeUndefined();
    expect(renderValue("{{event.nope | count}}", scope)).toBeUndefined();
    expect(renderValue("{{event.items|count}} items", scope)).toBe("2 items");
  });

  it("leaves text without placeholders alone", () => {
    expect(renderValue("plain {text}", scope)).toBe("plain {text}");
    expect(renderValue(42, scope)).toBe(42);
  });
});

describe("template inspection", () => {
  it("lists the roots a template uses", () => {
    expect(templateRoots("{{event.a}} {{customer.b}} {{event.c}} {{now}}")).toEqual(["event", "customer", "now"]);
    expect(templateRoots("{{ order.total }}")).toEqual(["order"]);
    expect(templateRoots("no placeholders")).toEqual([]);
  });

  it("reports syntax problems", () => {
    expect(templateProblems("{{event.a}} {{now}} {{claim.coupon.code}}")).toEqual([]);
    expect(templateProblems("{{order.total}}")[0]).toMatch(/unknown root "order"/);
    expect(templateProblems("{{now.x}}")[0]).toMatch(/no path/);
    expect(templateProblems("{{event}}")[0]).toMatch(/dot path/);
    expect(templateProblems("{{}}")[0]).toMatch(/unknown root/);
    expect(templateProblems("{{event.items|sum}}")[0]).toMatch(/unknown filter "sum"/);
  });
});
