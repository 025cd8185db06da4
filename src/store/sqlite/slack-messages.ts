import type Database from "better-sqlite3";
import type { CardRecord, PostState, SlackMessageStore } from "../../slack/message-store.ts";

/** The Slack layer's message store on SQLite (tables from migration 3). */
export const SLACK_QUERIES = {
  post: "SELECT ts FROM slack_posts WHERE key = ?",
  insertPost: "INSERT INTO slack_posts (key, thread_id, ts, created_at) VALUES (?, ?, NULL, ?)",
  completePost:
    "INSERT INTO slack_posts (key, thread_id, ts, created_at) VALUES (@key, 0, @ts, 0) " +
    "ON CONFLICT (key) DO UPDATE SET ts = excluded.ts",
  statusKey:
    "SELECT post_key FROM slack_turn_status WHERE turn_id IN (SELECT value FROM json_each(?)) ORDER BY turn_id LIMIT 1",
  linkStatus:
    "INSERT INTO slack_turn_status (turn_id, post_key) VALUES (?, ?) " +
    "ON CONFLICT (turn_id) DO UPDATE SET post_key = excluded.post_key",
  unlinkStatus: "DELETE FROM slack_turn_status WHERE turn_id = ?",
  liveCard:
    "SELECT thread_id AS threadId, revision, ts, payload, source, superseded_at AS supersededAt FROM slack_cards " +
    "WHERE thread_id = ? ORDER BY revision DESC LIMIT 1",
  addCard:
    "INSERT INTO slack_cards (thread_id, revision, ts, payload, source) VALUES (?, ?, ?, ?, ?) " +
    "ON CONFLICT (thread_id, revision) DO NOTHING",
  toSupersede:
    "SELECT thread_id AS threadId, revision, ts, payload, source, superseded_at AS supersededAt FROM slack_cards " +
    "WHERE thread_id = ? AND superseded_at IS NULL " +
    "AND revision < (SELECT MAX(revision) FROM slack_cards WHERE thread_id = ?) ORDER BY revision",
  markSuperseded: "UPDATE slack_cards SET superseded_at = ? WHERE thread_id = ? AND revision = ?",
} as const;

export function sqliteSlackMessages(db: Database.Database): SlackMessageStore {
  const s = {
    post: db.prepare<[string], { ts: string | null }>(SLACK_QUERIES.post),
    insertPost: db.prepare<[string, number, number]>(SLACK_QUERIES.insertPost),
    completePost: db.prepare<{ key: string; ts: string }>(SLACK_QUERIES.completePost),
    statusKey: db.prepare<[string], string>(SLACK_QUERIES.statusKey).pluck(),
    linkStatus: db.prepare<[number, string]>(SLACK_QUERIES.linkStatus),
    unlinkStatus: db.prepare<[number]>(SLACK_QUERIES.unlinkStatus),
    liveCard: db.prepare<[number], CardRecord>(SLACK_QUERIES.liveCard),
    addCard: db.prepare<[number, number, string, string, string]>(SLACK_QUERIES.addCard),
    toSupersede: db.prepare<[number, number], CardRecord>(SLACK_QUERIES.toSupersede),
    markSuperseded: db.prepare<[number, number, number]>(SLACK_QUERIES.markSuperseded),
  };
  const begin = db.transaction((key: string, threadId: number, now: number): PostState => {
    const row = s.post.get(key);
    if (!row) {
      s.insertPost.run(key, threadId, now);
      return { state: "new" };
    }
    return row.ts ? { state: "posted", ts: row.ts } : { state: "uncertain" };
  });
  const link = db.transaction((turnIds: readonly number[], key: string) => {
    for (const id of turnIds) s.linkStatus.run(id, key);
  });
  const unlink = db.transaction((turnIds: readonly number[]) => {
    for (const id of turnIds) s.unlinkStatus.run(id);
  });
  return {
    beginPost: async (key, threadId, now) => begin(key, threadId, now),
    completePost: async (key, ts) => {
      s.completePost.run({ key, ts });
    },
    postedTs: async (key) => s.post.get(key)?.ts ?? undefined,
    statusKeyFor: async (turnIds) =>
      turnIds.length === 0 ? undefined : s.statusKey.get(JSON.stringify(turnIds)),
    linkStatus: async (turnIds, key) => link(turnIds, key),
    unlinkStatus: async (turnIds) => unlink(turnIds),
    liveCard: async (threadId) => s.liveCard.get(threadId),
    addCard: async (card) =>
      s.addCard.run(card.threadId, card.revision, card.ts, card.payload, card.source).changes > 0,
    cardsToSupersede: async (threadId) => s.toSupersede.all(threadId, threadId),
    markSuperseded: async (threadId, revision, now) => {
      s.markSuperseded.run(now, threadId, revision);
    },
  };
}
