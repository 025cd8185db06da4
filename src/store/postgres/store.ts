import type { Store } from "../index.ts";

export function createPostgresStore(_options: { url: string }): Promise<Store> {
  throw new Error("PostgreSQL store: not built yet");
}
