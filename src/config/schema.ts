import { z } from 'zod';

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
  bodyLimitBytes: z.number().int().positive().default(32 * 1024 * 1024),
  dataDir: nonEmpty.default('./data'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const openAICompatibleProviderSchema = z.strictObject({
  type: z.literal('openai-compatible'),
  /** e.g. https://dashscope.aliyuncs.com/compatible-mode/v1 ; /chat/completions is appended. */
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  apiKey: z.string().optional(),
  /** Extra request headers (e.g. an api-key header for Azure). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Extra query parameters (e.g. api-version). */
  query: z.record(z.string(), z.string()).default({}),
  /** Body parameters sent on every request unless the agent or the client sets them. */
  defaultParams: z.record(z.string(), z.unknown()).default({}),
});

const scriptRuleSchema = z
  .strictObject({
    /** Matched as whole words (Latin scripts) or substrings (CJK), case-insensitively. */
    keywords: z.array(nonEmpty).min(1).optional(),
    /** A JavaScript regular expression, matched case-insensitively. */
    pattern: nonEmpty.optional(),
    reply: nonEmpty,
    /** End the call after the reply. */
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
  /** Function name of the end-call tool call (the FunctionMap's MatchFunction). */
  hangupFunctionName: nonEmpty.default('hangup'),
});

export const providerConfigSchema = z.discriminatedUnion('type', [
  openAICompatibleProviderSchema,
  scriptedProviderSchema,
]);

const agentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:\/-]+$/, 'agent ids may use letters, digits and . _ : / -');

export const agentConfigSchema = z.strictObject({
  /** Name of an entry under `providers`. */
  provider: nonEmpty,
  /** The upstream model name (not needed for scripted providers). */
  model: nonEmpty.optional(),
  systemPrompt: z.string().optional(),
  /** Body parameters for this agent, over the provider's defaultParams, under the client's. */
  params: z.record(z.string(), z.unknown()).default({}),
});

export const gatewayConfigSchema = z
  .strictObject({
    server: serverConfigSchema.default(serverConfigSchema.parse({})),
    providers: z.record(agentIdSchema, providerConfigSchema).default({}),
    agents: z.record(agentIdSchema, agentConfigSchema),
    /** Requests naming an unknown model go to this agent, if set. */
    defaultAgent: nonEmpty.optional(),
  })
  .superRefine((config, ctx) => {
    for (const [id, agent] of Object.entries(config.agents)) {
      const provider = config.providers[agent.provider];
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
    if (config.defaultAgent !== undefined && !config.agents[config.defaultAgent]) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultAgent'],
        message: `unknown agent "${config.defaultAgent}"`,
      });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ProviderConfig = z.infer<typeof providerConfigSchema>;
export type OpenAICompatibleProviderConfig = z.infer<typeof openAICompatibleProviderSchema>;
export type ScriptedProviderConfig = z.infer<typeof scriptedProviderSchema>;
export type AgentConfig = z.infer<typeof agentConfigSchema>;
