// A stateful fake of the Slack Web API (and of interactivity response_urls) over real localhost HTTP.
// Point the real WebClient at it (`slackApiUrl: fake.url`), then assert on what a person would see in a
// thread: messages, edits, ephemerals, modals, statuses, reactions. It answers like Slack: HTTP 200 with
// `{ ok: false, error }` for failures, HTTP 429 + Retry-After for rate limits, Block Kit limits enforced.
//
// The implementation lives in ./fake-slack/: server.ts (start, queries, setup), store.ts (messages),
// dispatch.ts (routing, recording, lost answers), chat.ts, reads.ts, streams.ts, views.ts, response-url.ts
// (methods), workspaces.ts (tokens, teams), oauth.ts (oauth.v2.access), users.ts, faults.ts, render.ts
// (render()), seen*.ts (seenText: what a person sees, character by character, with styles).

export type { FakeSlack } from "./fake-slack/api.ts";
export {
  renderSeen,
  type Seen,
  type SeenOptions,
  type SeenSpan,
  seenMarkdown,
  seenMrkdwn,
  seenText,
} from "./fake-slack/seen.ts";
export { startFakeSlack } from "./fake-slack/server.ts";
export {
  type AppRegistration,
  DEFAULT_BOT_SCOPES,
  type EphemeralMessage,
  type FailAfterStoreMode,
  type FailAfterStoreOptions,
  type FakeSlackOptions,
  type HumanMessageInput,
  type InstallationInfo,
  type InstallInput,
  type MessageVersion,
  type RateLimitOptions,
  type Reaction,
  type RecordedCall,
  type ResponseUrlContext,
  type ShownVersion,
  type StatusUpdate,
  type StoredMessage,
  type StoredView,
  type StreamInfo,
  type StreamState,
  type UserOptions,
  type WaitForOptions,
} from "./fake-slack/types.ts";
