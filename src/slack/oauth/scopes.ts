/**
 * The bot scopes the code needs, asked for by "Add to Slack" and listed in both manifests (a test keeps
 * them equal): mentions and thread messages in public and private channels and DMs, posting, the
 * /draft command and shortcut, and users:read for names and the admin check.
 */
export const BOT_SCOPES: readonly string[] = [
  "app_mentions:read",
  "channels:history",
  "groups:history",
  "im:history",
  "chat:write",
  "commands",
  "users:read",
];
