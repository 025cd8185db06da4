import { LogLevel, WebClient } from "@slack/web-api";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createSilentLogger } from "../../src/logger.ts";
import { createUserNames, type UserNames } from "../../src/slack/user-names.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { eventually } from "../support/puffle.ts";

// Names for attribution ("Dana: make it shorter") come from users.info on the fake Slack, over HTTP.
let slack: FakeSlack;
let names: UserNames;

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.addUser("U0DANA", "Dana Scully");
  slack.addUser("U0LEE", "Lee Adama");
});
afterAll(() => slack?.close());
beforeEach(() => {
  slack.resetCalls();
  slack.delay("users.info", 0);
  const client = new WebClient(slack.token, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
  names = createUserNames({ clients: { forTeam: async () => client }, logger: createSilentLogger() });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const lookups = (user?: string) =>
  slack.callsTo("users.info").filter((call) => user === undefined || call.args.user === user).length;

/** Moves Date.now (all user-names reads of time) forward by `ms` from where it is now. */
function later(ms: number) {
  const now = Date.now();
  vi.spyOn(Date, "now").mockReturnValue(now + ms);
}

describe("user names", () => {
  it("looks a person up once and answers from the cache after that", async () => {
    expect(names.cached("T1", "U0DANA")).toBeNull();
    expect(lookups()).toBe(0);
    expect(await names.nameOf("T1", "U0DANA")).toBe("Dana Scully");
    expect(names.cached("T1", "U0DANA")).toBe("Dana Scully");
    expect(await names.nameOf("T1", "U0DANA")).toBe("Dana Scully");
    expect(await names.nameOf("T1", "U0LEE")).toBe("Lee Adama");
    expect(lookups("U0DANA")).toBe(1);
    expect(lookups("U0LEE")).toBe(1);
  });

  it("asks once for several messages from the same person at the same moment", async () => {
    const answers = await Promise.all([
      names.nameOf("T1", "U0LEE"),
      names.nameOf("T1", "U0LEE"),
      names.nameOf("T1", "U0LEE"),
    ]);
    expect(answers).toEqual(["Lee Adama", "Lee Adama", "Lee Adama"]);
    expect(lookups("U0LEE")).toBe(1);
  });

  it("asks again only after an hour", async () => {
    expect(await names.nameOf("T1", "U0DANA")).toBe("Dana Scully");
    later(59 * 60 * 1000);
    expect(await names.nameOf("T1", "U0DANA")).toBe("Dana Scully");
    expect(lookups("U0DANA")).toBe(1);
    vi.restoreAllMocks();
    later(61 * 60 * 1000);
    expect(names.cached("T1", "U0DANA")).toBeNull();
    expect(await names.nameOf("T1", "U0DANA")).toBe("Dana Scully");
    expect(lookups("U0DANA")).toBe(2);
  });

  it("a slow users.info never holds a message up more than 1.5 s; the name is kept when it comes", async () => {
    slack.delay("users.info", 2500);
    const started = performance.now();
    expect(await names.nameOf("T1", "U0DANA")).toBeNull();
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(2300);
    // The lookup goes on in the background, and its answer serves the next message at once.
    await eventually(() => names.cached("T1", "U0DANA") ?? undefined, 3000, "the late name");
    const again = performance.now();
    expect(await names.nameOf("T1", "U0DANA")).toBe("Dana Scully");
    expect(performance.now() - again).toBeLessThan(100);
    expect(lookups("U0DANA")).toBe(1);
  });

  it("a failed lookup gives null, is not repeated for a few minutes, then is tried again", async () => {
    slack.failNext("users.info", "user_not_found");
    expect(await names.nameOf("T1", "U0LEE")).toBeNull();
    expect(names.cached("T1", "U0LEE")).toBeNull();
    expect(await names.nameOf("T1", "U0LEE")).toBeNull();
    expect(lookups("U0LEE")).toBe(1);
    later(6 * 60 * 1000);
    expect(await names.nameOf("T1", "U0LEE")).toBe("Lee Adama");
    expect(lookups("U0LEE")).toBe(2);
  });

  it("a Slack that cannot be reached gives null rather than an error", async () => {
    const client = new WebClient(slack.token, {
      slackApiUrl: "http://127.0.0.1:1/api/",
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    const offline = createUserNames({
      clients: { forTeam: async () => client },
      logger: createSilentLogger(),
    });
    expect(await offline.nameOf("T1", "U0DANA")).toBeNull();
  });

  it("asks with the person's own workspace's client, and keeps names apart per workspace", async () => {
    const asked: string[] = [];
    const client = new WebClient(slack.token, {
      slackApiUrl: slack.url,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    const perTeam = createUserNames({
      clients: {
        forTeam: async (teamId) => {
          asked.push(teamId);
          if (teamId !== "T1") throw new Error("no installation for this workspace");
          return client;
        },
      },
      logger: createSilentLogger(),
    });
    expect(await perTeam.nameOf("T1", "U0DANA")).toBe("Dana Scully");
    // The same user id in another workspace is another person: not answered from T1's cache.
    expect(perTeam.cached("T2", "U0DANA")).toBeNull();
    expect(await perTeam.nameOf("T2", "U0DANA")).toBeNull();
    expect(asked).toEqual(["T1", "T2"]);
    expect(perTeam.cached("T1", "U0DANA")).toBe("Dana Scully");
  });
});
