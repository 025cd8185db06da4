/** Who has opened the app's Home tab, so it is refreshed for them when what it shows changes. */
export interface HomeViewers {
  noteHomeOpened(teamId: string, userId: string, now: number): Promise<void>;
  hasOpenedHome(teamId: string, userId: string): Promise<boolean>;
}
