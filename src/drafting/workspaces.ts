import type { StepChoice } from "./store.ts";

/**
 * What each Slack workspace set for itself (SPEC 8): its own Puffle key (kept encrypted; only its last
 * four characters are ever shown) and its default campaign and step.
 */
export interface WorkspaceRecord {
  teamId: string;
  /** The Puffle key, encrypted with ENCRYPTION_KEY; null when the workspace connected none. */
  puffleKeyEncrypted: string | null;
  puffleKeyLast4: string | null;
  puffleKeySetBy: string | null;
  puffleKeySetAt: number | null;
  defaultStep: StepChoice | null;
  defaultSetBy: string | null;
}

export interface WorkspaceStore {
  getWorkspace(teamId: string): Promise<WorkspaceRecord | undefined>;
  setPuffleKey(
    teamId: string,
    key: { encrypted: string; last4: string },
    setBy: string,
    now: number,
  ): Promise<void>;
  clearPuffleKey(teamId: string): Promise<void>;
  setWorkspaceDefaultStep(teamId: string, step: StepChoice | null, setBy: string, now: number): Promise<void>;
}
