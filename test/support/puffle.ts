import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import { createSilentLogger, type Logger } from "../../src/logger.ts";
import { createPuffleClient, type PuffleClient, type PuffleClientOptions } from "../../src/puffle/client.ts";

/** An emulator and a client pointed at it, with fast retries for tests. */
export async function startPuffle(
  emulatorOptions: EmulatorOptions = {},
  clientOptions: Partial<PuffleClientOptions> & { logger?: Logger } = {},
): Promise<{ emulator: Emulator; client: PuffleClient; close: () => Promise<void> }> {
  const emulator = await startEmulator({
    taskDelayMs: 100,
    examplesDelayMs: 150,
    realtimeHoldMs: 500,
    ...emulatorOptions,
  });
  const client = createPuffleClient({
    baseUrl: emulator.url,
    apiKey: emulator.apiKey,
    logger: clientOptions.logger ?? createSilentLogger(),
    retry: { baseDelayMs: 10, maxDelayMs: 50, ...clientOptions.retry },
    readTimeoutMs: 2000,
    dispatchTimeoutMs: 2000,
    ...clientOptions,
  });
  return {
    emulator,
    client,
    close: async () => {
      await client.close();
      await emulator.close();
    },
  };
}

/** Resolves once `probe` returns a truthy value (polling every 10 ms), or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
