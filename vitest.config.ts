import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Most tests wait on sockets and timers, not the CPU: three files at a time halve the run on two
    // cores (vitest's default there is one).
    maxWorkers: 3,
    // One PostgreSQL server per run (TEST_POSTGRES_URL, or an embedded one): test/setup/postgres.ts.
    globalSetup: ["test/setup/postgres.ts"],
    // A test that reaches any host but this machine fails, naming the host.
    setupFiles: ["./test/setup/localhost-only.ts"],
  },
});
