import { z } from 'zod';
import { addressRule } from '../validation/address-rule.ts';

/** The YAML config file's shape. Every field documented in docs/configuration.md. */

const nonEmpty = z.string().min(1);

export const serverConfigSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(8083),
  host: nonEmpty.default('0.0.0.0'),
  /** Bearer keys the voice platform must present. Empty: one is generated and kept in dataDir. */
  apiKeys: z.array(z.string()).default([]),
  /** Served under this path too, for reverse proxies (e.g. "/llm"). */
  pathPrefix: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'must be empty or look like "/llm" (no trailing slash)')
    .default(''),
  /** Large enough for 15 base64 JPEG frames of a multimodal turn. */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  dataDir: nonEmpty.default('./data'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  limits: z
    .strictObject({
      /** Streams in flight at once, all keys together; more get 429. */
      maxConcurrentStreams: z.number().int().positive().default(2000),
      /**
       * Streams in flight at once per API key; unset: maxConcurrentStreams (one platform key may
       * carry all of a business's calls, so by default a key may use the whole gateway).
       */
      maxConcurrentStreamsPerKey: z.number().int().positive().optional(),
      /** Requests per minute per API key (0: no limit). */
      requestsPerMinutePerKey: z.number().int().min(0).default(0),
      /** A client must send all request headers within this time. */
      headersTimeoutMs: z.number().int().positive().default(10_000),
      /** A client must send the whole request (headers and body) within this time. */
      requestTimeoutMs: z.number().int().positive().default(30_000),
      /** An idle keep-alive connection is closed after this time. */
      keepAliveTimeoutMs: z.number().int().positive().default(65_000),
      /** Open client connections at once; more are closed on arrival (idle keep-alives count too). */
      maxConnections: z.number().int().positive().default(10_000),
    })
    .transform((limits) => ({ ...limits, maxConcurrentStreamsPerKey: limits.maxConcurrentStreamsPerKey ?? limits.maxConcurrentStreams }))
    .prefault({}),
  /** On SIGTERM/SIGINT, turns in flight get this long to finish before they are ended. */
  drainTimeoutMs: z.number().int().min(0).default(10_000),
  /** At start, check each upstream in the background (reachable, key, model) and log what is wrong. */
  probeUpstreams: z.boolean().default(true),
});

export const providerTimeoutsSchema = z
  .strictObject({
    /** Opening the TCP/TLS connection. */
    connectMs: z.number().int().positive().default(3000),
    /** From sending the request to the first speakable part (text or tool call), retries included. */
    firstTokenMs: z.number().int().positive().default(5000),
    /** Longest silence between two parts once the answer streams. */
    idleMs: z.number().int().positive().default(10_000),
    /** The whole answer. */
    totalMs: z.number().int().positive().default(120_000),
  })
  .prefault({});

export const retrySchema = z
  .strictObject({
    /** Further attempts after the first, before any text reached the caller. */
    maxRetries: z.number().int().min(0).max(5).default(2),
    /** First backoff; doubled each retry (with jitter); Retry-After wins when the upstream sends it. */
    backoffMs: z.number().int().min(0).default(200),
  })
  .prefault({});

export const circuitBreakerSchema = z
  .strictObject({
    /** Consecutive failed turns that open the circuit (the provider is skipped). */
    failureThreshold: z.number().int().positive().default(5),
    /** How long an open circuit skips the provider before one probe request is let through. */
    cooldownMs: z.number().int().positive().default(30_000),
  })
  .prefault({});

export const openAICompatibleProviderSchema = z.strictObject({
  type: z.literal('openai-compatible'),
  /** e.g. https://dashscope.aliyuncs.com/compatible-mode/v1 ; /chat/completions is appended. */
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).refine((url) => !/\/chat\/completions\/?$/.test(url), {
    message:
      'ends in /chat/completions, which the gateway appends itself: drop it (e.g. https://dashscope.aliyuncs.com/compatible-mode/v1)',
  }),
  apiKey: z.string().optional(),
  /** Extra request headers (e.g. an api-key header for Azure). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Extra query parameters (e.g. api-version). */
  query: z.record(z.string(), z.string()).default({}),
  /** Body parameters sent on every request unless the agent or the client sets them. */
  defaultParams: z.record(z.string(), z.unknown()).default({}),
  timeouts: providerTimeoutsSchema,
  retry: retrySchema,
  circuitBreaker: circuitBreakerSchema,
});

const scriptRuleSchema = z
  .strictObject({
    /** Matched as whole words (Latin scripts) or substrings (CJK), case-insensitively. */
    keywords: z.array(nonEmpty).min(1).optional(),
    /** A JavaScript regular expression, matched case-insensitively. */
    pattern: nonEmpty.optional(),
    reply: nonEmpty,
    /** End the call after the reply (signalled as the agent's endCall settings say). */
    endCall: z.boolean().default(false),
  })
  .refine((rule) => (rule.keywords === undefined) !== (rule.pattern === undefined), {
    message: 'a rule needs exactly one of "keywords" or "pattern"',
  });

export const scriptedProviderSchema = z.strictObject({
  type: z.literal('scripted'),
  /** Said before the first answer of a call (when the history holds no assistant message yet). */
  greeting: z.string().optional(),
  rules: z.array(scriptRuleSchema).default([]),
  /** Said when no rule matches; {{heard}} stands for the caller's words. */
  fallback: nonEmpty.default('I heard: {{heard}}'),
});

export const providerConfigSchema = z.discriminatedUnion('type', [openAICompatibleProviderSchema, scriptedProviderSchema]);

const agentIdSchema = z.string().regex(/^[\p{L}\p{N}._:/-]+$/u, 'agent ids may use letters and digits (any language) and . _ : / -');

const functionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'function names use letters, digits, _ and - (at most 64)');

export const endCallSchema = z.strictObject({
  /** Offer the model an end-call function. */
  enabled: z.boolean().default(true),
  /** How the workflow is told: a tool call (needs FunctionMap) or the <imsagent_hangup/> text command. */
  mode: z.enum(['tool', 'text']).default('tool'),
  /** The function the model sees. */
  functionName: functionName.default('end_call'),
  /** For the model; unset: the default in the turn's language (src/agent/language/phrases.ts). */
  description: z.string().optional(),
  /** The function name the workflow acts on: the FunctionMap's MatchFunction. */
  hangupFunctionName: functionName.default('hangup'),
  /** Said when the model ends the call without saying anything; unset: the default in the turn's language. */
  farewell: nonEmpty.optional(),
});

export const transferDestinationSchema = z.strictObject({
  /** The number to transfer to (the human agent). */
  callee: nonEmpty,
  /** The number shown as the caller, if the line needs one. */
  caller: z.string().optional(),
  /** Spoken when the transfer starts. */
  msg: z.string().optional(),
  /** Spoken when the transfer fails. */
  errMsg: z.string().optional(),
  /** Tells the model when to pick this destination. */
  description: z.string().optional(),
});

export const transferSchema = z.strictObject({
  functionName: functionName.default('transfer_call'),
  /** For the model; unset: the default in the turn's language. */
  description: z.string().optional(),
  destinations: z
    // Names in any script (人工客服): letters and digits of any language, _ and -.
    .record(
      z.string().regex(/^[\p{L}\p{N}_-]+$/u, 'destination names use letters (any language), digits, _ and -'),
      transferDestinationSchema,
    )
    .refine((d) => Object.keys(d).length > 0, 'at least one destination is required'),
});

/** The agent presses keypad keys (IVR navigation), where the platform can carry it. */
export const pressDigitsSchema = z.strictObject({
  /** The function the model sees. */
  functionName: functionName.default('press_digits'),
  /** For the model; unset: the default in the turn's language. */
  description: z.string().optional(),
  /** Keys (and `w` pauses) one call may press, at most; a longer call presses nothing. */
  maxDigits: z.number().int().min(1).max(64).default(20),
});

export const httpToolSchema = z.strictObject({
  name: functionName,
  description: nonEmpty,
  /** JSON Schema of the arguments the model fills in. */
  parameters: z.record(z.string(), z.unknown()).default({ type: 'object', properties: {} }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** Sent with each call; use ${ENV} for secrets. */
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().max(60_000).default(5000),
  /** Spoken at once while the tool runs (e.g. "One moment, let me check."). */
  say: z.string().optional(),
  /** The result is cut to this many characters before the model sees it. */
  maxResultChars: z.number().int().positive().default(4000),
});

const pronunciationSchema = z.strictObject({
  written: z.string().min(1).max(200),
  spoken: z.string(),
  /** Match any letter case. */
  ignoreCase: z.boolean().default(false),
  /** Not inside a longer word or number of an alphabetic script (CJK neighbours do not count). */
  wholeWord: z.boolean().default(true),
});

const readDigitsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Runs with this many digits are read one by one (from 3 after "code", "call", 验证码, ...). */
    minDigits: z.number().int().min(3).max(32).default(7),
  })
  .prefault({});

/** How a model marks reasoning in its answer text: see src/agent/transforms/strip-think-blocks.ts. */
const reasoningModeSchema = z.enum(['auto', 'unopened']).default('auto');

export const agentConfigSchema = z.strictObject({
  /** Name of an entry under `providers`. */
  provider: nonEmpty,
  /** The upstream model name (not needed for scripted providers). */
  model: nonEmpty.optional(),
  /** A Mustache template: {{callerNumber}}, {{userData.name}}, {{query.task_id}}, {{now}}, ... */
  systemPrompt: z.string().optional(),
  /** Defaults for template variables the call does not provide. */
  variables: z.record(z.string(), z.string()).default({}),
  /** IANA time zone for {{now}} (e.g. Asia/Shanghai). */
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai or UTC').default('UTC'),
  /** The language of the gateway's own words (notes, function descriptions, {{now}}, apologies, ...); auto: the caller's, each turn. */
  language: z.enum(['auto', 'zh', 'en']).default('auto'),
  /** What to do with a system message the caller sends. */
  callerSystemPrompt: z.enum(['append', 'replace', 'ignore']).default('append'),
  /** How the model marks reasoning in its text: auto (tags, separate fields) or unopened (the answer starts inside a block). */
  reasoning: reasoningModeSchema,
  /** Body parameters for this agent, over the provider's defaultParams, under the client's. */
  params: z.record(z.string(), z.unknown()).default({}),
  endCall: endCallSchema.optional(),
  transfer: transferSchema.optional(),
  /** Offer the model a function that presses keypad keys, on platforms that can press them (Retell, Twilio, Vapi's dtmf). */
  pressDigits: pressDigitsSchema.optional(),
  /** IMS commands the model writes itself (<imsagent_hangup/>, <imsagent_transfer_call/>, a call of the hangup function). */
  commands: z
    .strictObject({
      /** false: taken out and counted. true: hangups honoured, transfers only to transfer.destinations; all on the record. */
      fromModel: z.boolean().default(false),
    })
    .prefault({}),
  tools: z.array(httpToolSchema).default([]),
  /** Tool round-trips within one turn before the model must answer. */
  maxToolRounds: z.number().int().min(1).max(10).default(3),
  history: z
    .strictObject({
      /** Tell the model where the caller cut its previous answer off. */
      markInterruptions: z.boolean().default(true),
      /** Merge consecutive messages of the same role (for upstreams that demand alternation). */
      mergeConsecutiveRoles: z.boolean().default(false),
    })
    .prefault({}),
  speech: z
    .strictObject({
      /** Shape the output for text-to-speech: no markdown, no emoji. */
      enabled: z.boolean().default(true),
      /** A bare URL in the answer: say its host, or drop it. */
      urls: z.enum(['host', 'drop']).default('host'),
      /** Said when the answer ends on code that is not read out; '' for nothing. Default: in the caller's language. */
      codeFallback: z.string().optional(),
      /** Literal replacements in what is spoken (brand names, `110` → `幺幺零`). */
      pronunciations: z.array(pronunciationSchema).default([]),
      /** Read phone numbers and codes digit by digit. */
      readDigits: readDigitsSchema,
    })
    .prefault({}),
  memory: z
    .strictObject({
      /** window: use what the workflow sends; full: restore older turns it dropped. */
      mode: z.enum(['window', 'full']).default('window'),
      /** Characters of restored history at most. */
      maxChars: z.number().int().positive().default(24_000),
      /** A call idle this long is forgotten. */
      idleMinutes: z.number().positive().default(30),
    })
    .prefault({}),
  /** Image parts: pass to the upstream, drop (keep the text), or keep the newest N. */
  images: z.union([z.enum(['pass', 'drop']), z.number().int().min(0)]).default('pass'),
  /** Tried in order when the agent's provider fails before its first word. */
  fallbacks: z
    .array(
      z.strictObject({
        provider: nonEmpty,
        model: nonEmpty.optional(),
        params: z.record(z.string(), z.unknown()).default({}),
        reasoning: reasoningModeSchema,
      }),
    )
    .default([]),
  /** When every provider failed: speak an apology (voice) or answer an HTTP error (other clients). */
  onFailure: z
    .strictObject({
      mode: z.enum(['apologize', 'error']).default('apologize'),
      /** The apology; by default one in the caller's language (Chinese or English). */
      message: nonEmpty.optional(),
      /** End the call after this many failed turns in a row (0: never). */
      hangupAfterFailures: z.number().int().min(0).default(0),
    })
    .prefault({}),
  /** Say a short phrase when the first words are slow (the IMS platform has its own filler: off by default). */
  filler: z
    .strictObject({
      enabled: z.boolean().default(false),
      afterMs: z.number().int().positive().default(1500),
      /** One is picked at random; by default a short phrase in the caller's language. */
      phrases: z.array(nonEmpty).optional(),
    })
    .prefault({}),
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const recordsSchema = z
  .strictObject({
    /** Keep a record of every turn. */
    enabled: z.boolean().default(true),
    /** SQLite file (relative to server.dataDir). PostgreSQL is used instead when DATABASE_URL is set. */
    sqliteFile: nonEmpty.default('records.db'),
    /** Records older than this are deleted (checked hourly). */
    retentionDays: z.number().positive().default(30),
    /** Records waiting to be written at most; more are dropped (and counted), never delaying a call. */
    queueSize: z.number().int().positive().default(10_000),
    /** Records written per batch, and how long a record may wait for its batch. */
    batchSize: z.number().int().positive().default(200),
    flushIntervalMs: z.number().int().positive().default(500),
    /** Characters kept of each text field of a record (caller text, answer, userData, error, tool arguments and results); more is cut and marked. */
    maxTextChars: z.number().int().min(100).default(8000),
    /** Characters of JSON kept of a turn's tool runs; later runs are replaced by one marker run. */
    maxToolRunsChars: z.number().int().min(1000).default(32_000),
    /** full: what was said is kept; metadata: only timings, outcomes and counts (no text). */
    content: z.enum(['full', 'metadata']).default('full'),
  })
  .prefault({});

/** The live calls the gateway holds in memory (barge-in, sentence order, memory.mode full). */
export const callsSchema = z
  .strictObject({
    /** Calls held at most; past it the idlest call without a turn in progress is forgotten. */
    maxCalls: z.number().int().positive().default(50_000),
    /** All calls together (approximate heap bytes); past it the idlest calls' memory is forgotten first. */
    maxMemoryBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024),
    /** One call's remembered conversation; past it its oldest messages are dropped. */
    maxMemoryBytesPerCall: z
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    /** A turn with a lower sentenceId than the call's newest begins a new call once the call has been quiet this long. */
    newCallAfterIdleSeconds: z.number().positive().default(10),
  })
  .refine((calls) => calls.maxMemoryBytesPerCall <= calls.maxMemoryBytes, {
    message: 'maxMemoryBytesPerCall must not exceed maxMemoryBytes',
    path: ['maxMemoryBytesPerCall'],
  })
  .prefault({});

/** Where call state lives: this process (memory) or Redis, shared by several replicas (docs/shared-state.md). */
export const stateSchema = z
  .strictObject({
    store: z.enum(['memory', 'redis']).default('memory'),
    /** redis: the server's URL (redis://, rediss://); unset: the REDIS_URL variable, else redis://127.0.0.1:6379. */
    url: z.string().optional(),
    /** Prefix of every Redis key and channel: replicas of one deployment share it, other deployments use another. */
    keyPrefix: z.string().min(1).default('vlg:'),
    /** The longest a turn waits for Redis on each operation; past it the turn goes on with this replica's state. */
    timeoutMs: z.number().int().positive().max(5000).default(50),
    /** A stream slot of a replica that died frees itself after this long (live slots are renewed a third of it). */
    leaseSeconds: z.number().int().min(3).default(30),
  })
  .prefault({});
/** A secret that travels in a URL path: characters that need no escaping. */
const pathSecret = z.string().regex(/^[A-Za-z0-9._~-]{1,256}$/, 'use letters, digits and . _ ~ - (it is part of a URL path), at most 256');

/** Retell AI's custom LLM WebSocket (docs/platforms/retell.md). */
export const retellPlatformSchema = z.strictObject({
  /** Retell sends no credential: the socket's path carries this secret (wss://host/retell/{secret}). */
  secret: pathSecret,
  /** The agent that answers; unset: defaultAgent. */
  agent: agentIdSchema.optional(),
  /** Said as the call begins; empty: the agent waits for the caller to speak first. */
  greeting: z.string().default(''),
  /** Source addresses allowed to connect (addresses or CIDR blocks); empty: any. */
  allowFrom: z
    .array(z.string().refine((entry) => addressRule(entry) !== undefined, 'must be an IP address or a CIDR block such as 100.20.5.228/32'))
    .default([]),
});

/** A ConversationRelay `language` message's codes (BCP-47, as the TwiML's `language` attributes take them). */
const twilioLanguageCodes = z.strictObject({ ttsLanguage: nonEmpty, transcriptionLanguage: nonEmpty });

/** Twilio ConversationRelay (docs/platforms/twilio.md). */
export const twilioPlatformSchema = z.strictObject({
  /** The account's Auth Token: each connection's X-Twilio-Signature is checked with it. Unset: not checked. */
  authToken: z.string().min(1).optional(),
  /** The agent that answers; unset: defaultAgent. */
  agent: agentIdSchema.optional(),
  /** The <ConversationRelay url> Twilio signs, without its query string; unset: wss:// + Host header + path. */
  publicUrl: z.url({ protocol: /^wss?$/, error: 'must be a ws(s):// URL (the url attribute of <ConversationRelay>)' }).optional(),
  /** With an agent whose `language` is auto: a caller who changes language switches the session (a `language` message). */
  languageSwitch: z.boolean().default(true),
  /** The ConversationRelay codes each language switches to. */
  languages: z
    .strictObject({
      zh: twilioLanguageCodes.default({ ttsLanguage: 'zh-CN', transcriptionLanguage: 'zh-CN' }),
      en: twilioLanguageCodes.default({ ttsLanguage: 'en-US', transcriptionLanguage: 'en-US' }),
    })
    .default({
      zh: { ttsLanguage: 'zh-CN', transcriptionLanguage: 'zh-CN' },
      en: { ttsLanguage: 'en-US', transcriptionLanguage: 'en-US' },
    }),
});

/** Voice platforms that call over a WebSocket; each is off until configured. */
const platformsSchema = z.strictObject({ retell: retellPlatformSchema.optional(), twilio: twilioPlatformSchema.optional() }).default({});

export const gatewayConfigSchema = z
  .strictObject({
    server: serverConfigSchema.default(serverConfigSchema.parse({})),
    records: recordsSchema,
    calls: callsSchema,
    state: stateSchema,
    privacy: z
      .strictObject({
        /** Records and logs show 138****0001 instead of the full number. */
        maskPhoneNumbers: z.boolean().default(true),
        /**
         * The secret of the keyed hashes that find a call by its full number; unset: one is
         * generated and kept in dataDir (lookup-key). Gateways sharing a database need the same one.
         */
        lookupKey: z.string().optional(),
      })
      .prefault({}),
    admin: z
      .strictObject({
        /** Keys for /admin/*; none configured: one is generated and kept in dataDir (admin-key). */
        apiKeys: z.array(z.string()).default([]),
        /** Turns per page of GET /admin/calls/{id} without a limit, and the largest limit accepted. */
        turnsPerPage: z.number().int().positive().default(100),
        maxTurnsPerPage: z.number().int().positive().max(10_000).default(500),
        /** A separate listener for /admin, /metrics and /console (an internal address); unset: the chat listener serves them. */
        listen: z.strictObject({ host: nonEmpty.default('127.0.0.1'), port: z.number().int().min(0).max(65_535) }).optional(),
      })
      .refine((admin) => admin.turnsPerPage <= admin.maxTurnsPerPage, {
        message: 'turnsPerPage must not exceed maxTurnsPerPage',
        path: ['turnsPerPage'],
      })
      .prefault({}),
    console: z
      .strictObject({
        /** The operator's console at /console (signed in with an admin key). */
        enabled: z.boolean().default(true),
        /** How long a console sign-in lasts. */
        sessionTtlMinutes: z
          .number()
          .int()
          .positive()
          .max(7 * 24 * 60)
          .default(480),
        /** Price per million tokens by provider name, for the estimated cost on the Stats page. */
        prices: z.record(z.string(), z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() })).default({}),
        currency: nonEmpty.default('USD'),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** When set, GET /metrics needs "Authorization: Bearer <key>". */
        apiKey: z.string().optional(),
      })
      .prefault({}),
    callbacks: z
      .strictObject({
        /** The token the IMS platform sends in Authorization with its event callbacks; unset: /ims/callbacks is off. */
        token: z.string().optional(),
      })
      .default({}),
    providers: z.record(agentIdSchema, providerConfigSchema).default({}),
    agents: z.record(agentIdSchema, agentConfigSchema),
    /** Requests naming an unknown model go to this agent, if set. */
    defaultAgent: nonEmpty.optional(),
    platforms: platformsSchema,
  })
  .superRefine((config, ctx) => {
    for (const [id, agent] of Object.entries(config.agents)) {
      const seen = new Map<string, string>();
      const claim = (name: string, what: string, path: PropertyKey[]) => {
        const earlier = seen.get(name);
        if (earlier)
          ctx.addIssue({ code: 'custom', path: ['agents', id, ...path], message: `function name "${name}" is already used by ${earlier}` });
        else seen.set(name, what);
      };
      if (agent.endCall?.enabled) claim(agent.endCall.functionName, 'endCall', ['endCall', 'functionName']);
      if (agent.transfer) claim(agent.transfer.functionName, 'transfer', ['transfer', 'functionName']);
      if (agent.pressDigits) claim(agent.pressDigits.functionName, 'pressDigits', ['pressDigits', 'functionName']);
      agent.tools.forEach((tool, index) => claim(tool.name, `tools[${index}]`, ['tools', index, 'name']));
      agent.fallbacks.forEach((fallback, index) => {
        const target = own(config.providers, fallback.provider);
        if (!target) {
          ctx.addIssue({
            code: 'custom',
            path: ['agents', id, 'fallbacks', index, 'provider'],
            message: `unknown provider "${fallback.provider}"`,
          });
        } else if (target.type === 'openai-compatible' && !fallback.model) {
          ctx.addIssue({
            code: 'custom',
            path: ['agents', id, 'fallbacks', index, 'model'],
            message: 'an openai-compatible fallback needs "model"',
          });
        }
      });
      const provider = own(config.providers, agent.provider);
      if (!provider) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', id, 'provider'],
          message: `unknown provider "${agent.provider}" (configured: ${Object.keys(config.providers).join(', ') || 'none'})`,
        });
      } else if (provider.type === 'openai-compatible' && !agent.model) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', id, 'model'],
          message: `agent "${id}" uses openai-compatible provider "${agent.provider}" and needs "model" (the upstream model name)`,
        });
      }
    }
    if (Object.keys(config.agents).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['agents'], message: 'at least one agent is required' });
    }
    for (const [name, platform] of Object.entries(config.platforms)) {
      if (platform === undefined) continue;
      const agent = platform.agent ?? config.defaultAgent;
      if (agent === undefined)
        ctx.addIssue({ code: 'custom', path: ['platforms', name, 'agent'], message: 'name the agent that answers (or set defaultAgent)' });
      else if (platform.agent !== undefined && !own(config.agents, platform.agent))
        ctx.addIssue({ code: 'custom', path: ['platforms', name, 'agent'], message: `unknown agent "${platform.agent}"` });
    }
    if (config.defaultAgent !== undefined && !own(config.agents, config.defaultAgent)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultAgent'],
        message: `unknown agent "${config.defaultAgent}"`,
      });
    }
  });

/** A configured entry by name; never an inherited property ("constructor", "toString", ...). */
function own<T>(entries: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(entries, name) ? entries[name] : undefined;
}

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ProviderConfig = z.infer<typeof providerConfigSchema>;
export type OpenAICompatibleProviderConfig = z.infer<typeof openAICompatibleProviderSchema>;
export type ScriptedProviderConfig = z.infer<typeof scriptedProviderSchema>;
export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type EndCallConfig = z.infer<typeof endCallSchema>;
export type TransferConfig = z.infer<typeof transferSchema>;
export type TransferDestination = z.infer<typeof transferDestinationSchema>;
export type PressDigitsConfig = z.infer<typeof pressDigitsSchema>;
export type HttpToolConfig = z.infer<typeof httpToolSchema>;
export type ReasoningMode = z.infer<typeof reasoningModeSchema>;
export type ProviderTimeouts = z.infer<typeof providerTimeoutsSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;
export type CircuitBreakerConfig = z.infer<typeof circuitBreakerSchema>;
export type ServerLimits = ServerConfig['limits'];
export type RecordsConfig = z.infer<typeof recordsSchema>;
export type CallsConfig = z.infer<typeof callsSchema>;
export type StateConfig = z.infer<typeof stateSchema>;
export type RetellPlatformConfig = z.infer<typeof retellPlatformSchema>;
export type TwilioPlatformConfig = z.infer<typeof twilioPlatformSchema>;
