/**
 * Everything a business needs to replay one turn of a call after the fact. Built once when the
 * turn ends (off the streaming path) and handed to the record store.
 */

export type TurnOutcome = 'ok' | 'apologized' | 'error' | 'client_closed' | 'superseded' | 'shutdown' | 'upstream_broken';

export interface ProviderAttemptRecord {
  provider: string;
  model: string | null;
  outcome: 'committed' | 'retried' | 'failed' | 'skipped';
  errorCode: string | null;
  ms: number;
  /** When the attempt started, from the turn's start (absent in records older than migration 3). */
  startMs?: number;
}

export interface ToolRunRecord {
  name: string;
  arguments: string;
  ok: boolean;
  error: string | null;
  status: number | null;
  /** What the model saw (size-capped by the tool's maxResultChars). */
  result: string;
  ms: number;
  /** When the run started, from the turn's start (absent in records older than migration 3). */
  startMs?: number;
}

/**
 * Points of a turn's waterfall, in ms from the turn's start (the request received); null when the
 * turn never got there. Absent in records written before migration 3.
 */
export interface TurnTimings {
  /** The committed provider's request left the gateway. */
  upstreamSentMs: number | null;
  /** Its first speakable part arrived. */
  firstUpstreamTokenMs: number | null;
  /** The response headers and first chunk were written to the platform. */
  firstByteMs: number | null;
  /** The response ended. */
  lastByteMs: number | null;
  /** A filler phrase began the answer here (the model was slow); absent when none was said. */
  fillerMs?: number;
}

export interface TurnRecord {
  /** Unique per turn (the completion id sent to the client). */
  id: string;
  startedAt: string;
  endedAt: string;
  /** The call: extendData.instanceId, else channelId, else null (a plain OpenAI client). */
  instanceId: string | null;
  channelId: string | null;
  sentenceId: number | null;
  /** Masked per privacy.maskPhoneNumbers. */
  callerNumber: string | null;
  calleeNumber: string | null;
  userData: string | null;
  agent: string;
  /** The provider that answered, if any. */
  provider: string | null;
  attempts: ProviderAttemptRecord[];
  /** The caller's newest words. */
  callerText: string;
  /** The text actually sent to the client. */
  answerText: string;
  toolRuns: ToolRunRecord[];
  /** 'hangup' or 'transfer:<destination>' when the turn ended or transferred the call. */
  signal: string | null;
  finishReason: string | null;
  outcome: TurnOutcome;
  httpStatus: number;
  ttftMs: number | null;
  /** Time to the end of the first full sentence (. ! ? 。！？ …). */
  firstSentenceMs: number | null;
  totalMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  /** client_closed | superseded | shutdown | timeout, when the turn was cut. */
  cancellation: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** 'check' or 'simulate' when the gateway's own tools sent the turn (x-vlg-synthetic); null for real calls. */
  synthetic: string | null;
  timings?: TurnTimings;
  /** The voice platform that asked: ims, vapi, elevenlabs, trtc, volcengine, agora, livekit, pipecat. */
  platform: string | null;
  /**
   * Keyed hashes of the full numbers (phone-lookup.ts), written so that the admin API can find a
   * call by a number stored masked. Written only: never read back, exported or shown.
   */
  numberHashes?: NumberHashes;
}

export interface NumberHashes {
  caller: string | null;
  callee: string | null;
}

/** A platform event callback (IMS agent events) attached to a call. */
export interface CallEventRecord {
  instanceId: string;
  event: string;
  /** The platform's own event id or a hash of the body, for idempotence. */
  eventKey: string;
  receivedAt: string;
  payload: unknown;
}

export interface CallSummary {
  instanceId: string;
  agent: string;
  callerNumber: string | null;
  calleeNumber: string | null;
  startedAt: string;
  lastTurnAt: string;
  turns: number;
  /** Outcome of the last turn, or 'ended' once the platform said the call stopped. */
  outcome: string;
  endedAt: string | null;
  hangup: boolean;
  transferred: boolean;
  /** 'check' or 'simulate' when the call's turns were the gateway's own test traffic; null for a real call. */
  synthetic: string | null;
}

export interface CallDetail extends CallSummary {
  /** The call's turns in start order: all of them, or one page (see TurnPage). */
  turnRecords: TurnRecord[];
  events: CallEventRecord[];
  /** Where the next page of turns starts; null when this page has the last turn. */
  next: TurnCursor | null;
}

/** A position in a call's (or the whole store's) turns, in (startedAt, id) order: after this turn. */
export interface TurnCursor {
  startedAt: string;
  id: string;
}

/** One page of a call's turns: at most `limit` turns, after `after` when given. */
export interface TurnPage {
  limit: number;
  after?: TurnCursor;
}

/** Which traffic a query covers: real calls only, the gateway's own check/simulate runs only, or both. */
export type SyntheticFilter = 'exclude' | 'only' | 'include';
export const SYNTHETIC_FILTERS: readonly SyntheticFilter[] = ['exclude', 'only', 'include'];

/**
 * The turns a query covers, the same for the call list, the stats and the export: turns that
 * started in [from, to) (ISO; either may be absent), and which traffic (absent: all of it).
 */
export interface TurnRange {
  from?: string;
  to?: string;
  synthetic?: SyntheticFilter;
}

/** Calls with a turn in the range. `caller`/`callee` match part of the stored number, or its hash. */
export interface CallQuery extends TurnRange {
  agent?: string;
  caller?: string;
  /** The keyed hash of `caller` read as a full number (finds it although stored masked). */
  callerHash?: string;
  callee?: string;
  calleeHash?: string;
  outcome?: string;
  limit: number;
  offset: number;
}

export type StatsQuery = TurnRange;

/** Filters of the record search (every field optional; text matches are case-sensitive substrings). */
export interface RecordSearch {
  from?: string;
  to?: string;
  agent?: string;
  provider?: string;
  outcome?: string;
  /** 'hangup' or 'transfer' (any destination). */
  signal?: string;
  errorCode?: string;
  caller?: string;
  callee?: string;
  channel?: string;
  /** Free text in what the caller said or heard. */
  text?: string;
  /** 'real' (no marker) or a synthetic marker ('check', 'simulate', 'console'). */
  synthetic?: string;
  /** Newest first: the page starts after this (startedAt, id) — a call's instance id for calls. */
  before?: TurnCursor;
  limit: number;
}

export interface SearchPage<T> {
  data: T[];
  /** Where the next (older) page starts; null on the last page. */
  next: TurnCursor | null;
}

export interface SeriesQuery {
  from: string;
  to: string;
  bucketSeconds: number;
}

export interface SeriesBucket {
  at: string;
  turns: number;
  calls: number;
  failures: number;
  apologies: number;
  hangups: number;
  transfers: number;
}

export interface UsageRow {
  agent: string;
  provider: string | null;
  turns: number;
  promptTokens: number;
  completionTokens: number;
  failures: number;
  apologies: number;
}

export interface SeriesResult {
  buckets: SeriesBucket[];
  usage: UsageRow[];
}

export interface StatsRow {
  agent: string;
  provider: string | null;
  turns: number;
  ttftP50: number | null;
  ttftP95: number | null;
  ttftP99: number | null;
  errorRate: number;
  hangups: number;
  transfers: number;
  cancellations: number;
}

/**
 * Where records go. `enqueue` never blocks or throws: a slow or failed store never delays or
 * fails a call (the queue is bounded; drops are counted).
 */
export interface RecordStore {
  enqueue(record: TurnRecord): void;
  addEvent(event: CallEventRecord): Promise<boolean>;
  listCalls(query: CallQuery): Promise<{ calls: CallSummary[]; total: number }>;
  /** One call with its events and its turns: all of them, or the page asked for. */
  getCall(instanceId: string, page?: TurnPage): Promise<CallDetail | undefined>;
  stats(query: StatsQuery): Promise<StatsRow[]>;
  /** The turns in the range, oldest first, for export. */
  exportTurns(range: TurnRange, batch: (records: TurnRecord[]) => Promise<void> | void): Promise<void>;
  /** Calls with a turn matching the search, newest first, a page after `query.before`. */
  searchCalls(query: RecordSearch): Promise<SearchPage<CallSummary>>;
  /** Turns across calls matching the search, newest first, a page after `query.before`. */
  searchTurns(query: RecordSearch): Promise<SearchPage<TurnRecord>>;
  /** Turns per time bucket and token totals per agent and provider (the console's charts). */
  series(query: SeriesQuery): Promise<SeriesResult>;
  /** Erases one call (turns, events, summary); returns how many turns were removed. */
  deleteCall(instanceId: string): Promise<number>;
  /** Deletes records older than the retention; returns how many turns were removed. */
  purgeOlderThan(cutoff: string): Promise<number>;
  /** Waits until everything queued is written. */
  flush(): Promise<void>;
  readonly queueDepth: number;
  readonly dropped: number;
  close(): Promise<void>;
}
