//! The TypeScript types of the public JS surface, emitted into the generated
//! `.d.ts` (no `any` anywhere).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Key-value storage for the client id (and the token, only with `persistToken`). */
export interface StorageLike {
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  set(key: string, value: string): Promise<void> | void;
}

/** Every protocol duration, in milliseconds (tests shorten them). */
export interface Timing {
  /** Multiply every default duration by this factor first (e.g. 0.001 in tests). */
  scale?: number;
  rateLimitWaitMs?: number;
  resumeDelayMs?: number;
  resumeTries?: number;
  statePollMs?: number;
  notifyAfterMs?: number;
  /**
   * After a dropped stream the outcome is read from state. A generation's
   * result is final only once its second stage (BGM and a title) shows; if
   * the state holds still this long after the raw clip without it, the turn
   * ends with what is there. Default 60000.
   */
  stageTwoWaitMs?: number;
  stillWorkingMs?: number;
  stallMs?: number;
  turnCapMs?: number;
  renderPollMs?: number;
  renderMaxPolls?: number;
  /**
   * The time limit of one small-reply request (token, createSession, state,
   * credits, claimLink, export submit/poll/cancel, URL upload): from sending it
   * to the end of its reply. Past it the request is stopped (its connection
   * freed) and the call rejects with a `TimeoutError` (`kind: "timeout"`),
   * except a read (state, credits, export poll), which is sent once more
   * first. A POST is never re-sent, since it may have been processed.
   * Default 60000; `0` or `Infinity`: no limit. Not changed by `scale`.
   * A file upload is bound by it only once its last byte is sent (the wait
   * for the server's reply; the sending has `uploadStallMs`). Not bound by
   * it: downloads (they may take long; end them with `signal`) and the agent
   * stream once its headers came (it has `stallMs` and `turnCapMs`; the wait
   * for its headers is bound). The size lookup after an export gives up
   * silently (`sizeBytes: null`).
   */
  requestTimeoutMs?: number;
  /**
   * The stall limit of a file upload (`session.upload` of a File, Blob or
   * bytes; `uploadFile` in Node): while the file is being sent, if the
   * connection takes no bytes for this long, the upload is stopped (its
   * connection freed) and the call rejects with a `TimeoutError`
   * (`kind: "timeout"`, recovery `check_connection`). A slow upload that
   * keeps moving is never cut off. Once the last byte is sent, the wait for
   * the server's reply is bound by `requestTimeoutMs` (also a
   * `TimeoutError`). An upload is never re-sent automatically: the server
   * may have stored it. Your `signal` still gives `aborted`.
   * Where the platform reports no upload progress (browser-extension
   * service workers, which have no XMLHttpRequest) it cannot apply: there
   * only reading the reply, once its headers came, is bound (by
   * `requestTimeoutMs`); end such uploads with `signal`.
   * Default 60000; `0` or `Infinity`: no limit. Not changed by `scale`.
   */
  uploadStallMs?: number;
}

export interface NemoClientOptions {
  /** API base URL. Default: the production API. */
  baseUrl?: string;
  /** Web app URL for claim and registration links. */
  webUrl?: string;
  /** A token; when given, the anonymous token call is skipped. */
  token?: string;
  /** A stable client id (≤ 64 chars); default: persisted in `storage`. */
  clientId?: string;
  /** Where the client id lives. Default: chrome.storage, localStorage or memory. */
  storage?: StorageLike;
  /** Keep the anonymous token in `storage` too (off by default). */
  /**
   * Ask the agent for token streaming: the chat request carries
   * `"streaming": true` (ADK's own field), so text arrives as `text-delta`
   * events while it is written, then once whole as `text`. Default `true`;
   * `send(text, { streaming })` decides per turn.
   */
  streaming?: boolean;
  persistToken?: boolean;
  /** ISO language for new sessions: "en", "zh-CN", … */
  language?: string;
  /** The attribution headers; defaults from the protocol. */
  attribution?: { source?: string; version?: string; platform?: string };
  timing?: Timing;
  /** Called with the session handle whenever it changes (persist it to survive reloads). */
  onHandle?: (handle: SessionHandle) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface CreateSessionOptions extends CallOptions {
  taskName?: string;
  language?: string;
}

export interface ConnectInfo {
  userId?: string;
  clientId: string;
  credits: Credits;
}

export interface Credits {
  available: number;
  frozen: number;
  total: number;
}

/** What survives a reload. Holds no secret. */
export interface SessionHandle {
  v: 1;
  baseUrl?: string;
  sessionId: string;
  taskId: string;
  renderId?: string;
  lastEventId?: string;
  turnText?: string;
}

export type UploadInput = Blob | File | Uint8Array | string;

export interface UploadOptions extends CallOptions {
  /** Bytes sent so far, of `total`. */
  onProgress?: (sent: number, total: number) => void;
  /** Name for a single Blob/Uint8Array input. */
  filename?: string;
  /** Names, by position, for several inputs. */
  filenames?: string[];
}

export interface UploadedFile {
  filename: string;
  fileType: string;
  url: string;
  durationSec?: number;
  width?: number;
  height?: number;
  fps?: number;
  hash?: string;
}

export type TurnEvent =
  | { type: "text-delta"; text: string; author?: string }
  | { type: "text"; text: string; rawText: string; replacesDeltas: boolean; author?: string; actions: string[] }
  | { type: "thought"; text: string; partial: boolean }
  | { type: "tool"; phase: "call" | "result"; name: string; label: string }
  | { type: "state-delta"; keys: string[] }
  | { type: "state"; summary: string; changes: string[] }
  | { type: "heartbeat" }
  | { type: "still-working"; elapsedMs: number; message: string }
  | { type: "reconnecting"; attempt: number }
  | { type: "notice"; message: string }
  | { type: "done"; result: TurnResult };

export interface TurnResult {
  /** Final text after GUI translation. */
  text: string;
  /** The text as the agent wrote it. */
  rawText: string;
  toolCalls: string[];
  stateChanged: boolean;
  /** Plain-language summary; for a silent turn, the state diff in words. */
  summary: string;
  /** The agent wrote no text. */
  silent: boolean;
  /** GUI actions the text asked for, mapped to API actions ("export", "state", …). */
  actions: string[];
  timeline?: Timeline;
}

export interface SendOptions extends CallOptions {
  /**
   * Every event of the turn, as `for await` yields them, ending with `done`.
   * A failed turn has no event for its failure (like `for await`, which
   * throws it): `result` rejects with the `NemoError`.
   */
  onEvent?: (event: TurnEvent) => void;
  /** Token streaming for this turn (default: the client's `streaming`, on). */
  streaming?: boolean;
}

/**
 * A chat turn: iterate with `for await`, or await `result`. `break` aborts it.
 * It ends the same way everywhere: on success the last event is `done` (with
 * the `TurnResult`) and `result` resolves; on failure `for await` throws the
 * `NemoError`, `result` rejects with it, and `onEvent` receives no event for it.
 */
export interface Turn extends AsyncIterableIterator<TurnEvent> {
  readonly result: Promise<TurnResult>;
  abort(): void;
}

export interface ExportProgress {
  progress: number;
  status: "pending" | "processing" | "completed" | "failed" | "cancelled" | "retrying";
  id?: string;
}

export interface ExportOptions extends CallOptions {
  onProgress?: (p: ExportProgress) => void;
}

export interface ExportResult {
  id: string;
  url: string;
  sizeBytes: number | null;
}

export interface DownloadOptions extends CallOptions {
  onProgress?: (received: number, total: number) => void;
}

export interface HandleOptions extends SendOptions, ExportOptions {
  /** Files attached to the message (uploaded first). */
  files?: UploadInput | UploadInput[];
}

export type HandleResult =
  | { kind: "export"; reply: string; export: ExportResult; job: ExportJob }
  | { kind: "credits"; reply: string; credits: Credits }
  | { kind: "state"; reply: string; timeline: Timeline }
  | { kind: "upload"; reply: string; files: UploadedFile[] }
  | { kind: "chat"; reply: string; result: TurnResult }
  | { kind: "empty"; reply: string };

export interface Segment {
  id?: string;
  startMs: number;
  durationMs: number;
  src?: string;
  name?: string;
  volume?: number;
  text?: string;
  camera?: string;
}

export interface Track {
  kind: "video" | "audio" | "text" | "other";
  type: number;
  segments: Segment[];
}

export interface TimelineDiff {
  changes: string[];
  summary: string;
}

/** What the app (or the user) can do about an error. */
export type RecoveryAction =
  | "reauthenticate" | "new_session" | "register" | "top_up" | "choose_supported_file"
  | "compress_or_trim" | "upgrade_plan" | "retry_after" | "check_connection" | "retry"
  | "fix_input" | "report_bug" | "check_access" | "none";

export interface Recovery {
  action: RecoveryAction;
  description: string;
  url?: string;
  waitMs?: number;
  accepted?: string[];
  limitBytes?: number;
}

/** Base class of every error the client throws; `kind` says which. */
export interface NemoError extends Error {
  kind:
    | "token_expired" | "session_not_found" | "out_of_credits" | "unsupported_file"
    | "file_too_large" | "export_blocked" | "rate_limited" | "network" | "timeout"
    | "stream_stalled" | "aborted" | "protocol" | "invalid_input" | "render_failed";
  code?: number;
  status?: number;
  recovery: Recovery;
}
"#;
