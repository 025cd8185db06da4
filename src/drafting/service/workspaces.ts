import type { KeyCheck } from "../accounts.ts";
import type { StepChoice, ThreadRecord, TurnRecord } from "../store.ts";
import { isRunning, type ServiceContext } from "./context.ts";

/** A draft as the App Home lists it. */
export interface DraftSummary {
  thread: ThreadRecord;
  /** What the person first asked for. */
  brief: string;
  state: "drafting" | "waiting_for_you" | "saved" | "failed" | "needs_step" | "ended";
  version: number | null;
  /** When something last happened in it. */
  updatedAt: number;
}

export interface WorkspaceStatus {
  /** Whose key drafts here: the workspace's own, the deployment's PUFFLE_API_KEY, or none yet. */
  connection: "workspace" | "default" | "none";
  last4: string | null;
  connectedBy: string | null;
  /** Whether a key can be connected here (needs ENCRYPTION_KEY). */
  canConnect: boolean;
  defaultStep: StepChoice | null;
  defaultSource: "workspace" | "deployment" | null;
}

/** What a workspace's admins set for it (its Puffle key, its default step) and what the Home tab shows. */
export type WorkspaceAdmin = ReturnType<typeof createWorkspaceAdmin>;

export function createWorkspaceAdmin(ctx: ServiceContext) {
  const { store, clock, logger, accounts } = ctx;

  async function wakeTeam(teamId: string) {
    for (const threadId of await store.threadsWithOpenTurnsOfTeam(teamId)) ctx.engine.wake(threadId);
  }

  return {
    async workspaceStatus(teamId: string): Promise<WorkspaceStatus> {
      const workspace = await store.getWorkspace(teamId);
      const account = await accounts.forTeam(teamId);
      const own = Boolean(workspace?.puffleKeyEncrypted) && account?.source === "workspace";
      return {
        connection: account ? account.source : "none",
        last4: own ? (workspace?.puffleKeyLast4 ?? null) : (account?.last4 ?? null),
        connectedBy: own ? (workspace?.puffleKeySetBy ?? null) : null,
        canConnect: accounts.seal("probe") !== undefined,
        defaultStep: workspace?.defaultStep ?? ctx.defaultStep ?? null,
        defaultSource: workspace?.defaultStep ? "workspace" : ctx.defaultStep ? "deployment" : null,
      };
    },

    /**
     * Checks a key against Puffle and, when Puffle accepts it, keeps it (sealed) as the workspace's.
     * Messages that waited for a key are sent at once. The key itself is never logged or shown.
     */
    async connectPuffleKey(input: {
      teamId: string;
      key: string;
      by: string;
    }): Promise<KeyCheck | { status: "unavailable" }> {
      const key = input.key.trim();
      const sealed = accounts.seal(key);
      if (!sealed) return { status: "unavailable" };
      const checked = await accounts.check(key);
      logger.info({ teamId: input.teamId, by: input.by, result: checked.status }, "workspace.key_checked");
      if (checked.status !== "ok") return checked;
      await store.setPuffleKey(
        input.teamId,
        { encrypted: sealed, last4: key.slice(-4) },
        input.by,
        clock.now(),
      );
      logger.info({ teamId: input.teamId, by: input.by }, "workspace.key_connected");
      await wakeTeam(input.teamId);
      return checked;
    },

    async disconnectPuffleKey(input: { teamId: string; by: string }): Promise<void> {
      await store.clearPuffleKey(input.teamId);
      logger.info({ teamId: input.teamId, by: input.by }, "workspace.key_disconnected");
    },

    async setWorkspaceDefault(input: { teamId: string; step: StepChoice | null; by: string }): Promise<void> {
      await store.setWorkspaceDefaultStep(input.teamId, input.step, input.by, clock.now());
      logger.info({ teamId: input.teamId, by: input.by, ...input.step }, "workspace.default_step");
    },

    /** The drafts `userId` started in the workspace, newest first. */
    async recentDrafts(teamId: string, userId: string, limit = 10): Promise<DraftSummary[]> {
      const threads = await store.threadsStartedBy(teamId, userId, limit);
      return Promise.all(
        threads.map(async (thread) => {
          const turns = await store.listTurns(thread.id);
          return {
            thread,
            brief: turns[0]?.text ?? "",
            state: stateOf(thread, turns),
            version: thread.draftVersion,
            updatedAt: Math.max(
              thread.createdAt,
              ...turns.map((t) => t.finishedAt ?? t.createdAt),
              thread.savedAt ?? 0,
            ),
          };
        }),
      );
    },

    /**
     * The workspace uninstalled the app (or revoked its tokens): its threads end for good, quietly
     * (there is no token to say anything with), and no replica drives them any more.
     */
    async endWorkspace(input: { teamId: string; reason: string }): Promise<number> {
      const ended = await store.endThreadsOfTeam(input.teamId, input.reason, clock.now());
      for (const threadId of ended) ctx.engine.wake(threadId);
      logger.info({ teamId: input.teamId, threads: ended.length, reason: input.reason }, "workspace.ended");
      return ended.length;
    },
  };
}

function stateOf(thread: ThreadRecord, turns: readonly TurnRecord[]): DraftSummary["state"] {
  if (thread.endedAt !== null) return "ended";
  if (thread.campaignId === null) return "needs_step";
  if (turns.some((t) => t.state === "pending" || isRunning(t))) return "drafting";
  const last = turns.at(-1);
  if (last?.state === "failed") return "failed";
  if (thread.savedAt !== null && thread.savedAt >= (last?.finishedAt ?? 0)) return "saved";
  return "waiting_for_you";
}
