import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { defineLeaseContract } from "./lease-contract.ts";
import { defineSlackMessagesContract } from "./slack-messages-contract.ts";

async function openInMemory() {
  const store = createSqliteStore({ url: "sqlite::memory:" });
  return { store, cleanup: () => store.close() };
}

async function openFile() {
  const dir = mkdtempSync(join(tmpdir(), "puffle-store-"));
  const store = createSqliteStore({ url: `sqlite:${join(dir, "drafter.db")}` });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

defineLeaseContract("SQLite in memory", openInMemory);
defineLeaseContract("SQLite file", openFile);
defineSlackMessagesContract("SQLite in memory", openInMemory);
defineSlackMessagesContract("SQLite file", openFile);
