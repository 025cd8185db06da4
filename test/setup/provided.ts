/** What the global setup hands to test files (vitest's provide/inject), typed once. */
declare module "vitest" {
  export interface ProvidedContext {
    /** A database URL the tests may create other databases from. */
    postgresAdminUrl: string;
    /** Prefix of this run's databases, so the run can drop the ones a crashed test left behind. */
    postgresDatabasePrefix: string;
  }
}

export {};
