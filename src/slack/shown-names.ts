import type { Author } from "../drafting/outcomes.ts";
import type { UserNames } from "./user-names.ts";

/**
 * People are shown by name, never by mention (a mention would ping them on every status change).
 * Fills the names that were not known when a turn was recorded.
 */
export function createNamer(names: UserNames | undefined) {
  return async (teamId: string, authors: Author[]): Promise<Author[]> => {
    if (!names) return authors;
    return Promise.all(
      authors.map(async (a) => (a.name ? a : { ...a, name: await names.nameOf(teamId, a.id) })),
    );
  };
}

/** Each author once, in order of first appearance. */
export function uniqueAuthors(authors: readonly Author[]): Author[] {
  const seen = new Map<string, Author>();
  for (const author of authors) if (!seen.has(author.id)) seen.set(author.id, author);
  return [...seen.values()];
}
