/** The Slack layer's message store on PostgreSQL (tables of migration 1, shared by every replica). */
import type pg from "pg";
import type { CardRecord, PostState, SlackMessageStore } from "../../slack/message-store.ts";
import { run as runOn, type Statement } from "./queries.ts";

const CARD_FIELDS =
  'thread_id AS "threadId", revision, ts, payload, source, superseded_at AS "supersededAt" FROM slack_cards';

export const SLACK_QUERIES = {
  // The first replica to begin a post inserts its row; any other waits for it and then finds it.
  beginPost: {
    name: "slack_begin_post",
    text:
      "INSERT INTO slack_posts (key, thread_id, ts, created_at) VALUES ($1, $2, NULL, $3) " +
      "ON CONFLICT (key) DO NOTHING",
  },
  post: { name: "slack_post", text: "SELECT ts FROM slack_posts WHERE key = $1" },
  completePost: {
    name: "slack_complete_post",
    text:
      "INSERT INTO slack_posts (key, thread_id, ts, created_at) VALUES ($1, 0, $2, 0) " +
      "ON CONFLICT (key) DO UPDATE SET ts = excluded.ts",
  },
  statusKey: {
    name: "slack_status_key",
    text: "SELECT post_key FROM slack_turn_status WHERE turn_id = ANY($1::bigint[]) ORDER BY turn_id LIMIT 1",
  },
  linkStatus: {
    name: "slack_link_status",
    text:
      "INSERT INTO slack_turn_status (turn_id, post_key) SELECT turn_id, $2 FROM unnest($1::bigint[]) AS turn_id " +
      "ON CONFLICT (turn_id) DO UPDATE SET post_key = excluded.post_key",
  },
  unlinkStatus: {
    name: "slack_unlink_status",
    text: "DELETE FROM slack_turn_status WHERE turn_id = ANY($1::bigint[])",
  },
  liveCard: {
    name: "slack_live_card",
    text: `SELECT ${CARD_FIELDS} WHERE thread_id = $1 ORDER BY revision DESC LIMIT 1`,
  },
  addCard: {
    name: "slack_add_card",
    text:
      "INSERT INTO slack_cards (thread_id, revision, ts, payload, source) VALUES ($1, $2, $3, $4, $5) " +
      "ON CONFLICT (thread_id, revision) DO NOTHING",
  },
  toSupersede: {
    name: "slack_cards_to_supersede",
    text:
      `SELECT ${CARD_FIELDS} WHERE thread_id = $1 AND superseded_at IS NULL ` +
      "AND revision < (SELECT MAX(revision) FROM slack_cards WHERE thread_id = $1) ORDER BY revision",
  },
  markSuperseded: {
    name: "slack_mark_superseded",
    text: "UPDATE slack_cards SET superseded_at = $1 WHERE thread_id = $2 AND revision = $3",
  },
} as const satisfies Record<string, Statement>;

export function postgresSlackMessages(pool: pg.Pool): SlackMessageStore {
  const run = <R extends pg.QueryResultRow = Record<string, unknown>>(
    statement: Statement,
    values: readonly unknown[],
  ) => runOn<R>(pool, statement, values);
  const postedTs = async (key: string) =>
    (await run<{ ts: string | null }>(SLACK_QUERIES.post, [key])).rows[0];

  return {
    beginPost: async (key, threadId, now): Promise<PostState> => {
      const inserted = await run(SLACK_QUERIES.beginPost, [key, threadId, now]);
      if (inserted.rowCount === 1) return { state: "new" };
      // Read in a statement of its own, so that it sees a row another replica just committed.
      const ts = (await postedTs(key))?.ts;
      return ts ? { state: "posted", ts } : { state: "uncertain" };
    },
    completePost: async (key, ts) => {
      await run(SLACK_QUERIES.completePost, [key, ts]);
    },
    postedTs: async (key) => (await postedTs(key))?.ts ?? undefined,
    statusKeyFor: async (turnIds) =>
      turnIds.length === 0
        ? undefined
        : (await run<{ post_key: string }>(SLACK_QUERIES.statusKey, [[...turnIds]])).rows[0]?.post_key,
    linkStatus: async (turnIds, key) => {
      // One row per turn: ON CONFLICT DO UPDATE refuses to touch a row twice in one statement.
      const unique = [...new Set(turnIds)];
      if (unique.length > 0) await run(SLACK_QUERIES.linkStatus, [unique, key]);
    },
    unlinkStatus: async (turnIds) => {
      if (turnIds.length > 0) await run(SLACK_QUERIES.unlinkStatus, [[...turnIds]]);
    },
    liveCard: async (threadId) => (await run<CardRecord>(SLACK_QUERIES.liveCard, [threadId])).rows[0],
    addCard: async (card) =>
      (await run(SLACK_QUERIES.addCard, [card.threadId, card.revision, card.ts, card.payload, card.source]))
        .rowCount === 1,
    cardsToSupersede: async (threadId) => (await run<CardRecord>(SLACK_QUERIES.toSupersede, [threadId])).rows,
    markSuperseded: async (threadId, revision, now) => {
      await run(SLACK_QUERIES.markSuperseded, [now, threadId, revision]);
    },
  };
}
