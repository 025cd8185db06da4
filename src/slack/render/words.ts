/**
 * Words a person reads when something they used no longer works. (The turn's own words live in
 * status.ts.)
 */
export const OUT_OF_DATE = {
  button:
    "That button is from an older version of this message and no longer works. Use the buttons on the latest message in the thread, or mention me to start a new draft.",
  form: "This form is out of date and was not saved. Close it and open it again from the latest message in the thread.",
  shortcut: "That shortcut is out of date. Use *Draft from this message* from a message's menu, or `/draft`.",
  command: (command: string) =>
    `\`${command}\` is not a command of Puffle Drafter any more. Use \`/draft\` (\`/draft help\` shows how).`,
} as const;
