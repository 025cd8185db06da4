// API keys and the Puffle workspaces they open. A Puffle key is scoped to one workspace, so each key the
// emulator accepts is its own workspace: its own sessions and its own copy of the sequence nodes. Keys
// never appear in stats, logs or admin answers: a key is named by its label, "…" and its last 4 characters.
import { SEED } from "./seed.ts";

export interface Workspace {
  /** "w1", "w2", ... in the order the keys were added; w1 is the default key's. */
  id: string;
  /** Safe to show: "…" + the key's last 4 characters (plus "#n" when two keys end alike). */
  label: string;
  /** The workspace user that owns its sessions (w1: SEED.userId). */
  userId: string;
}

/** The first key's workspace: where sessions made without a key (in-process, by tests) belong. */
export const DEFAULT_OWNER: Owner = { id: "w1", userId: SEED.userId };

export type Owner = Pick<Workspace, "id" | "userId">;

export class Workspaces {
  #byKey = new Map<string, Workspace>();

  /** The first key is the default one (the workspace the seed user and `state.nodes` belong to). */
  constructor(keys: string[]) {
    for (const key of keys) this.add(key);
  }

  /** Adds a key (idempotent: a known key keeps its workspace) and returns its workspace. */
  add(key: string): Workspace {
    if (!/^\S+$/.test(key)) throw new RangeError("an API key is a non-empty string without spaces");
    const known = this.#byKey.get(key);
    if (known) return known;
    const n = this.#byKey.size + 1;
    const workspace: Workspace = {
      id: `w${n}`,
      label: this.#uniqueLabel(`…${key.slice(-4)}`),
      userId: n === 1 ? SEED.userId : `a0000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    };
    this.#byKey.set(key, workspace);
    return workspace;
  }

  find(key: string | undefined): Workspace | undefined {
    return key === undefined ? undefined : this.#byKey.get(key);
  }

  list(): Workspace[] {
    return [...this.#byKey.values()];
  }

  labelOf(workspaceId: string): string | undefined {
    return this.list().find((workspace) => workspace.id === workspaceId)?.label;
  }

  #uniqueLabel(label: string): string {
    const taken = new Set(this.list().map((workspace) => workspace.label));
    if (!taken.has(label)) return label;
    let n = 2;
    while (taken.has(`${label}#${n}`)) n += 1;
    return `${label}#${n}`;
  }
}
