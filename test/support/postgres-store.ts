/**
 * PostgreSQL stores for contract tests: one database per test file (emptied before each test), any
 * number of stores on it (as replicas would open), every one closed after the test.
 */
import {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from "../../src/store/postgres/store.ts";
import { usePostgresDatabase } from "./postgres.ts";

export interface OpenedPostgresStores {
  store: PostgresStore;
  /** Another store on the same database: a second replica, or the first one restarted. */
  reopen: () => Promise<PostgresStore>;
  cleanup: () => Promise<void>;
}

export function usePostgresStores(options: Omit<PostgresStoreOptions, "url"> = {}) {
  const database = usePostgresDatabase();
  return {
    database,
    async open(): Promise<OpenedPostgresStores> {
      await database.empty();
      const opened: PostgresStore[] = [];
      const another = async () => {
        const store = await createPostgresStore({ ...options, url: database.url });
        opened.push(store);
        return store;
      };
      return {
        store: await another(),
        reopen: another,
        cleanup: async () => {
          await Promise.all(opened.map((store) => store.close()));
        },
      };
    },
  };
}
