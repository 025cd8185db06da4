// Block Kit and message limits as the fake Slack enforces them (table: /work/shared/slack-notes.md).
// Errors mimic Slack's own: an error code plus "[ERROR] ... [json-pointer:/...]" messages, so a test that
// trips a limit says which field and which limit.

export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  /** Top-level `text` (the notification fallback); Slack answers `msg_too_long` above it. */
  messageText: 4000,
  /** Sum of all text inside a message's blocks; Slack answers `msg_blocks_too_long` above it. */
  messageBlocksTotalText: 12_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  markdownText: 12_000,
  /** chat.startStream/appendStream/stopStream: markdown_text (or markdown chunks) of one call. */
  streamMarkdownText: 12_000,
  /** The whole text of one streamed message (the fake's choice, like a markdown block; Slack documents none). */
  streamTotalText: 12_000,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionId: 255,
  blockId: 255,
  callbackId: 255,
  externalId: 255,
  actionsElements: 25,
  contextElements: 10,
  /** context_actions block: feedback_buttons / icon_button elements. */
  contextActionsElements: 5,
  accessibilityLabel: 75,
  overflowOptionsMin: 2,
  overflowOptionsMax: 5,
  selectOptions: 100,
  choiceOptions: 10,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  placeholderText: 150,
  imageAltText: 2000,
  imageTitle: 2000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  modalSubmit: 24,
  modalClose: 24,
  privateMetadata: 3000,
  inputLabel: 2000,
  inputHint: 2000,
  plainTextInputMaxLength: 3000,
  metadataBytes: 4000,
} as const;

const L = BLOCK_KIT_LIMITS;

/** The body Slack answers with when a call fails. */
export interface SlackErrorBody {
  ok: false;
  error: string;
  response_metadata?: { messages: string[] };
}

/** The parts of a message (chat.postMessage, chat.update, chat.postEphemeral, response_url) Slack checks. */
export interface MessagePayload {
  text?: unknown;
  blocks?: unknown;
  metadata?: unknown;
}

type Json = Record<string, unknown>;

export function slackError(error: string, messages?: string[]): SlackErrorBody {
  return messages && messages.length > 0
    ? { ok: false, error, response_metadata: { messages } }
    : { ok: false, error };
}

/** Checks a message like Slack does; `undefined` means Slack would accept it. */
export function validateMessage(payload: MessagePayload): SlackErrorBody | undefined {
  const { text, blocks } = payload;
  if (typeof text === "string" && text.length > L.messageText) {
    return slackError("msg_too_long", [
      `[ERROR] must be less than ${L.messageText + 1} characters (got ${text.length}) [json-pointer:/text]`,
    ]);
  }
  const metadataError = checkMetadata(payload.metadata);
  if (metadataError) return metadataError;
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) {
    return slackError("invalid_blocks_format", ["[ERROR] must provide an array [json-pointer:/blocks]"]);
  }
  const checker = new BlockChecker("message");
  checker.blocks(blocks, "/blocks", L.messageBlocks);
  if (checker.errors.length > 0) return slackError("invalid_blocks", checker.errors);
  const total = totalText(blocks);
  if (total > L.messageBlocksTotalText) {
    return slackError("msg_blocks_too_long", [
      `[ERROR] text across blocks must be less than ${L.messageBlocksTotalText + 1} characters (got ${total}) [json-pointer:/blocks]`,
    ]);
  }
  return undefined;
}

/**
 * Checks a modal or Home tab view like views.open/update/push/publish do. Slack reports every view problem,
 * blocks included, as `invalid_arguments` with pointers under `/view`.
 */
export function validateView(view: unknown): SlackErrorBody | undefined {
  if (!isObject(view)) return slackError("invalid_arguments", ["[ERROR] missing required field: view"]);
  const checker = new BlockChecker("view");
  checker.viewFields(view);
  checker.blocks(view.blocks, "/view/blocks", L.viewBlocks);
  return checker.errors.length > 0 ? slackError("invalid_arguments", checker.errors) : undefined;
}

function checkMetadata(metadata: unknown): SlackErrorBody | undefined {
  if (metadata === undefined) return undefined;
  if (!isObject(metadata) || typeof metadata.event_type !== "string" || !isObject(metadata.event_payload)) {
    return slackError("invalid_metadata_format", [
      "[ERROR] metadata must be an object with event_type (string) and event_payload (object) [json-pointer:/metadata]",
    ]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > L.metadataBytes) {
    return slackError("invalid_metadata", [
      `[ERROR] must be at most ${L.metadataBytes} bytes of JSON (got ${bytes}) [json-pointer:/metadata]`,
    ]);
  }
  return undefined;
}

/** Slack's `msg_blocks_too_long` counts the text people read: every `text` string at any depth. */
function totalText(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((sum: number, item) => sum + totalText(item), 0);
  if (!isObject(node)) return 0;
  let sum = 0;
  for (const [key, value] of Object.entries(node)) {
    sum += key === "text" && typeof value === "string" ? value.length : totalText(value);
  }
  return sum;
}

const SELECTS = [
  "static_select",
  "external_select",
  "users_select",
  "conversations_select",
  "channels_select",
];
const MULTI_SELECTS = SELECTS.map((type) => `multi_${type}`);
const CHOICES = ["checkboxes", "radio_buttons", "datepicker", "timepicker", "datetimepicker"];
const ACTIONS_ELEMENTS = new Set(["button", "overflow", ...CHOICES, ...SELECTS, ...MULTI_SELECTS]);
const ACCESSORY_ELEMENTS = new Set([...ACTIONS_ELEMENTS, "image"]);
const INPUT_ELEMENTS = new Set([
  ...CHOICES,
  ...SELECTS,
  ...MULTI_SELECTS,
  "plain_text_input",
  "email_text_input",
  "url_text_input",
  "number_input",
  "rich_text_input",
  "file_input",
]);
const CONTEXT_ACTIONS_ELEMENTS = new Set(["feedback_buttons", "icon_button"]);
const TEXT_TYPES = new Set(["plain_text", "mrkdwn"]);
/** Blocks Slack accepts in messages only (not in modals or Home tabs). */
const MESSAGE_ONLY_BLOCKS = new Set(["context_actions"]);

const RICH_TEXT_CONTAINERS = new Set([
  "rich_text_section",
  "rich_text_list",
  "rich_text_preformatted",
  "rich_text_quote",
]);
/** Inline rich_text elements and the field each one cannot do without. */
const RICH_TEXT_INLINE: Record<string, string | undefined> = {
  text: "text",
  link: "url",
  user: "user_id",
  usergroup: "usergroup_id",
  channel: "channel_id",
  emoji: "name",
  broadcast: "range",
  date: "timestamp",
  color: "value",
  team: "team_id",
};

interface TextRule {
  max: number;
  plainOnly?: boolean;
  required?: boolean;
}

interface StringRule {
  max: number;
  required?: boolean;
  nonEmpty?: boolean;
}

/** Walks blocks and views, collecting every problem with its JSON pointer (Slack reports them together). */
class BlockChecker {
  readonly errors: string[] = [];
  readonly #surface: "message" | "view";
  readonly #blockIds = new Set<string>();
  readonly #actionIds = new Set<string>();

  constructor(surface: "message" | "view") {
    this.#surface = surface;
  }

  fail(pointer: string, message: string): void {
    this.errors.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  }

  viewFields(view: Json): void {
    if (view.type !== "modal" && view.type !== "home") {
      this.fail("/view/type", `unsupported view type ${JSON.stringify(view.type)}, must be modal or home`);
    }
    if (view.type === "modal") this.text(view.title, "/view/title", { max: L.modalTitle, plainOnly: true });
    this.text(view.submit, "/view/submit", { max: L.modalSubmit, plainOnly: true, required: false });
    this.text(view.close, "/view/close", { max: L.modalClose, plainOnly: true, required: false });
    this.string(view.private_metadata, "/view/private_metadata", { max: L.privateMetadata });
    this.string(view.callback_id, "/view/callback_id", { max: L.callbackId });
    this.string(view.external_id, "/view/external_id", { max: L.externalId });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === "input");
    if (view.type === "modal" && hasInput && view.submit === undefined) {
      this.fail("/view", "missing required field: submit (a modal with input blocks needs a submit button)");
    }
  }

  blocks(blocks: unknown, at: string, max: number): void {
    if (!Array.isArray(blocks)) {
      this.fail(at, "must provide an array");
      return;
    }
    if (blocks.length > max) this.fail(at, `no more than ${max} items allowed`);
    blocks.forEach((block, index) => {
      this.block(block, `${at}/${index}`);
    });
  }

  block(block: unknown, at: string): void {
    if (!isObject(block)) {
      this.fail(at, "must provide an object");
      return;
    }
    this.id(block.block_id, `${at}/block_id`, this.#blockIds, L.blockId);
    const check = typeof block.type === "string" ? BLOCK_CHECKS[block.type] : undefined;
    if (this.#surface === "view" && MESSAGE_ONLY_BLOCKS.has(String(block.type))) {
      this.fail(`${at}/type`, `block type ${JSON.stringify(block.type)} is only allowed in messages`);
    } else if (check) check(this, block, at);
    else this.fail(`${at}/type`, `unsupported block type ${JSON.stringify(block.type)}`);
  }

  element(element: unknown, at: string, allowed: ReadonlySet<string>): void {
    if (!isObject(element)) {
      this.fail(at, "must provide an object");
      return;
    }
    const type = typeof element.type === "string" ? element.type : "";
    if (!allowed.has(type)) {
      this.fail(`${at}/type`, `element type ${JSON.stringify(element.type)} is not allowed here`);
      return;
    }
    this.id(element.action_id, `${at}/action_id`, this.#actionIds, L.actionId);
    ELEMENT_CHECKS[type]?.(this, element, at);
  }

  /** A text object: `{ type: "plain_text" | "mrkdwn", text }` with non-empty text. */
  text(value: unknown, at: string, rule: TextRule): void {
    if (value === undefined) {
      if (rule.required !== false) this.missing(at);
      return;
    }
    if (!isObject(value)) {
      this.fail(at, "must provide a text object");
      return;
    }
    if (rule.plainOnly ? value.type !== "plain_text" : !TEXT_TYPES.has(String(value.type))) {
      this.fail(`${at}/type`, rule.plainOnly ? "must be plain_text" : "must be plain_text or mrkdwn");
    }
    this.string(value.text, `${at}/text`, { max: rule.max, required: true, nonEmpty: true });
  }

  string(value: unknown, at: string, rule: StringRule): void {
    if (value === undefined) {
      if (rule.required) this.missing(at);
      return;
    }
    if (typeof value !== "string") this.fail(at, "must provide a string");
    else if (rule.nonEmpty && value.length === 0) this.fail(at, "must be more than 0 characters");
    else if (value.length > rule.max) this.fail(at, `must be less than ${rule.max + 1} characters`);
  }

  items(value: unknown, at: string, min: number, max: number): unknown[] {
    if (!Array.isArray(value)) {
      if (value === undefined) this.missing(at);
      else this.fail(at, "must provide an array");
      return [];
    }
    if (value.length < min) this.fail(at, `must provide at least ${min} items`);
    if (value.length > max) this.fail(at, `no more than ${max} items allowed`);
    return value;
  }

  options(value: unknown, at: string, min: number, max: number): void {
    this.items(value, at, min, max).forEach((option, index) => {
      this.option(option, `${at}/${index}`);
    });
  }

  option(option: unknown, at: string): void {
    if (!isObject(option)) {
      this.fail(at, "must provide an object");
      return;
    }
    this.text(option.text, `${at}/text`, { max: L.optionText });
    this.string(option.value, `${at}/value`, { max: L.optionValue, required: true });
    this.text(option.description, `${at}/description`, { max: L.optionDescription, required: false });
    this.string(option.url, `${at}/url`, { max: L.url });
  }

  confirm(value: unknown, at: string): void {
    if (value === undefined) return;
    if (!isObject(value)) {
      this.fail(at, "must provide an object");
      return;
    }
    this.text(value.title, `${at}/title`, { max: L.confirmTitle, plainOnly: true });
    this.text(value.text, `${at}/text`, { max: L.confirmText });
    this.text(value.confirm, `${at}/confirm`, { max: L.confirmButton, plainOnly: true });
    this.text(value.deny, `${at}/deny`, { max: L.confirmButton, plainOnly: true });
  }

  richText(block: Json, at: string): void {
    this.items(block.elements, `${at}/elements`, 1, Number.POSITIVE_INFINITY).forEach((element, index) => {
      this.richTextContainer(element, `${at}/elements/${index}`);
    });
  }

  richTextContainer(element: unknown, at: string): void {
    const type = isObject(element) ? element.type : undefined;
    if (!isObject(element) || typeof type !== "string" || !RICH_TEXT_CONTAINERS.has(type)) {
      this.fail(`${at}/type`, `unsupported rich_text element ${JSON.stringify(type)}`);
      return;
    }
    const children = this.items(element.elements, `${at}/elements`, 0, Number.POSITIVE_INFINITY);
    children.forEach((child, index) => {
      if (type === "rich_text_list") this.richTextListItem(child, `${at}/elements/${index}`);
      else this.richTextInline(child, `${at}/elements/${index}`);
    });
  }

  richTextListItem(item: unknown, at: string): void {
    if (isObject(item) && item.type === "rich_text_section") this.richTextContainer(item, at);
    else this.fail(`${at}/type`, "rich_text_list items must be rich_text_section");
  }

  richTextInline(element: unknown, at: string): void {
    const type = isObject(element) && typeof element.type === "string" ? element.type : "";
    const required = RICH_TEXT_INLINE[type];
    if (!isObject(element) || required === undefined) {
      this.fail(`${at}/type`, `unsupported rich_text inline element ${JSON.stringify(type || element)}`);
    } else if (element[required] === undefined || element[required] === "") {
      this.missing(`${at}/${required}`);
    }
  }

  missing(at: string): void {
    const cut = at.lastIndexOf("/");
    this.fail(at.slice(0, cut) || "/", `missing required field: ${at.slice(cut + 1)}`);
  }

  id(value: unknown, at: string, seen: Set<string>, max: number): void {
    this.string(value, at, { max, nonEmpty: true });
    if (typeof value !== "string") return;
    if (seen.has(value))
      this.fail(at, `duplicate ${at.slice(at.lastIndexOf("/") + 1)} ${JSON.stringify(value)}`);
    seen.add(value);
  }
}

type Check = (checker: BlockChecker, node: Json, at: string) => void;

const BLOCK_CHECKS: Record<string, Check> = {
  section(c, block, at) {
    if (block.text === undefined && block.fields === undefined) c.missing(`${at}/text`);
    c.text(block.text, `${at}/text`, { max: L.sectionText, required: false });
    if (block.fields !== undefined) {
      c.items(block.fields, `${at}/fields`, 1, L.sectionFields).forEach((field, index) => {
        c.text(field, `${at}/fields/${index}`, { max: L.sectionFieldText });
      });
    }
    if (block.accessory !== undefined) c.element(block.accessory, `${at}/accessory`, ACCESSORY_ELEMENTS);
  },
  header(c, block, at) {
    c.text(block.text, `${at}/text`, { max: L.headerText, plainOnly: true });
  },
  divider() {},
  image(c, block, at) {
    checkImage(c, block, at);
    c.text(block.title, `${at}/title`, { max: L.imageTitle, plainOnly: true, required: false });
  },
  actions(c, block, at) {
    c.items(block.elements, `${at}/elements`, 1, L.actionsElements).forEach((element, index) => {
      c.element(element, `${at}/elements/${index}`, ACTIONS_ELEMENTS);
    });
  },
  context(c, block, at) {
    c.items(block.elements, `${at}/elements`, 1, L.contextElements).forEach((element, index) => {
      const pointer = `${at}/elements/${index}`;
      if (isObject(element) && element.type === "image") checkImage(c, element, pointer);
      else if (isObject(element) && TEXT_TYPES.has(String(element.type))) {
        c.text(element, pointer, { max: Number.POSITIVE_INFINITY });
      } else c.fail(`${pointer}/type`, "context elements must be image, plain_text or mrkdwn");
    });
  },
  context_actions(c, block, at) {
    c.items(block.elements, `${at}/elements`, 1, L.contextActionsElements).forEach((element, index) => {
      c.element(element, `${at}/elements/${index}`, CONTEXT_ACTIONS_ELEMENTS);
    });
  },
  input(c, block, at) {
    c.text(block.label, `${at}/label`, { max: L.inputLabel, plainOnly: true });
    c.text(block.hint, `${at}/hint`, { max: L.inputHint, plainOnly: true, required: false });
    if (block.element === undefined) c.missing(`${at}/element`);
    else c.element(block.element, `${at}/element`, INPUT_ELEMENTS);
  },
  rich_text(c, block, at) {
    c.richText(block, at);
  },
  markdown(c, block, at) {
    c.string(block.text, `${at}/text`, { max: L.markdownText, required: true, nonEmpty: true });
  },
};

const ELEMENT_CHECKS: Record<string, Check | undefined> = {
  button(c, element, at) {
    c.text(element.text, `${at}/text`, { max: L.buttonText, plainOnly: true });
    c.string(element.value, `${at}/value`, { max: L.buttonValue });
    c.string(element.url, `${at}/url`, { max: L.url });
    if (element.style !== undefined && element.style !== "primary" && element.style !== "danger") {
      c.fail(`${at}/style`, "must be primary or danger");
    }
    c.confirm(element.confirm, `${at}/confirm`);
  },
  overflow(c, element, at) {
    c.options(element.options, `${at}/options`, L.overflowOptionsMin, L.overflowOptionsMax);
    c.confirm(element.confirm, `${at}/confirm`);
  },
  static_select: checkStaticSelect,
  multi_static_select: checkStaticSelect,
  checkboxes(c, element, at) {
    c.options(element.options, `${at}/options`, 1, L.choiceOptions);
  },
  radio_buttons(c, element, at) {
    c.options(element.options, `${at}/options`, 1, L.choiceOptions);
  },
  plain_text_input(c, element, at) {
    const max = element.max_length;
    if (max !== undefined && (typeof max !== "number" || max < 1 || max > L.plainTextInputMaxLength)) {
      c.fail(`${at}/max_length`, `must be a number from 1 to ${L.plainTextInputMaxLength}`);
    }
    const limit = typeof max === "number" ? max : L.plainTextInputMaxLength;
    c.string(element.initial_value, `${at}/initial_value`, { max: limit });
    c.text(element.placeholder, `${at}/placeholder`, {
      max: L.placeholderText,
      plainOnly: true,
      required: false,
    });
  },
  image: checkImage,
  feedback_buttons(c, element, at) {
    for (const key of ["positive_button", "negative_button"]) {
      const button = element[key];
      if (button === undefined) c.missing(`${at}/${key}`);
      else if (!isObject(button)) c.fail(`${at}/${key}`, "must provide an object");
      else {
        c.text(button.text, `${at}/${key}/text`, { max: L.buttonText, plainOnly: true });
        c.string(button.value, `${at}/${key}/value`, { max: L.buttonValue, required: true, nonEmpty: true });
        c.string(button.accessibility_label, `${at}/${key}/accessibility_label`, {
          max: L.accessibilityLabel,
        });
      }
    }
  },
  icon_button(c, element, at) {
    c.string(element.icon, `${at}/icon`, { max: L.actionId, required: true, nonEmpty: true });
    c.text(element.text, `${at}/text`, { max: L.buttonText, plainOnly: true });
    c.string(element.value, `${at}/value`, { max: L.buttonValue });
    c.string(element.accessibility_label, `${at}/accessibility_label`, { max: L.accessibilityLabel });
    const visibleTo = element.visible_to_user_ids;
    if (
      visibleTo !== undefined &&
      !(Array.isArray(visibleTo) && visibleTo.every((id) => typeof id === "string"))
    ) {
      c.fail(`${at}/visible_to_user_ids`, "must provide an array of strings");
    }
    c.confirm(element.confirm, `${at}/confirm`);
  },
};

function checkStaticSelect(c: BlockChecker, element: Json, at: string): void {
  c.text(element.placeholder, `${at}/placeholder`, {
    max: L.placeholderText,
    plainOnly: true,
    required: false,
  });
  if (element.option_groups === undefined) {
    c.options(element.options, `${at}/options`, 1, L.selectOptions);
    return;
  }
  c.items(element.option_groups, `${at}/option_groups`, 1, L.selectOptions).forEach((group, index) => {
    const pointer = `${at}/option_groups/${index}`;
    if (!isObject(group)) c.fail(pointer, "must provide an object");
    else {
      c.text(group.label, `${pointer}/label`, { max: L.optionText, plainOnly: true });
      c.options(group.options, `${pointer}/options`, 1, L.selectOptions);
    }
  });
}

function checkImage(c: BlockChecker, image: Json, at: string): void {
  if (image.image_url === undefined && image.slack_file === undefined) c.missing(`${at}/image_url`);
  c.string(image.image_url, `${at}/image_url`, { max: L.url, nonEmpty: true });
  c.string(image.alt_text, `${at}/alt_text`, { max: L.imageAltText, required: true, nonEmpty: true });
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
