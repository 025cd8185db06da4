import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { defineWorkspaceContract } from "./workspace-contract.ts";

defineWorkspaceContract("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "workspaces-"));
  const store = createSqliteStore({ url: `sqlite:${join(dir, "drafter.db")}` });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
