import { ConfigError } from '../config/config-error.ts';
import type { AgentConfig, GatewayConfig } from '../config/schema.ts';
import { gatewayError } from '../core/error-catalog.ts';
import { createProvider } from '../providers/create-provider.ts';
import { circuitBreakerSchema, providerTimeoutsSchema, retrySchema } from '../config/schema.ts';
import type { Provider } from '../providers/provider.ts';
import { guardProvider, type GuardedProvider, type ProviderTarget } from '../resilience/provider-target.ts';
import { NO_EXTRA_PARAMS } from '../resilience/provider-chain.ts';
import { checkTemplate } from './prompt/render-template.ts';
import { describeUnknownVariable, unknownTemplateVariables } from './prompt/template-variables.ts';
import { ToolRouter } from './tool-router.ts';
import { argumentValidator } from './tools/tool-arguments.ts';

/** Built-in engines answer at once and never fail upstream: the default budgets are ample. */
const BUILT_IN_ENGINE_SETTINGS = {
  timeouts: providerTimeoutsSchema.parse(undefined),
  retry: retrySchema.parse(undefined),
  circuitBreaker: circuitBreakerSchema.parse(undefined),
};

/** An agent: what a ModelId typed into a voice platform's console resolves to. */
export interface Agent {
  readonly id: string;
  readonly config: AgentConfig;
  readonly provider: Provider;
  /** The agent's provider, then its fallbacks, in the order they are tried. */
  readonly targets: readonly ProviderTarget[];
  /** The functions the gateway offers the model for this agent, and who handles each. */
  readonly router: ToolRouter;
  /** Whether a turn can end or transfer the call, or press keys (else the call-signal stage is left out). */
  readonly mayEndOrTransfer: boolean;
}

/** Builds every provider once and resolves the `model` of each request to an agent. */
export class AgentRegistry {
  private readonly agents = new Map<string, Agent>();
  private readonly providers = new Map<string, GuardedProvider>();
  private readonly defaultAgent: Agent | undefined;

  constructor(config: GatewayConfig) {
    const problems: string[] = [];
    for (const [name, providerConfig] of Object.entries(config.providers)) {
      try {
        const provider = createProvider(name, providerConfig);
        this.providers.set(
          name,
          guardProvider(provider, providerConfig.type === 'openai-compatible' ? providerConfig : BUILT_IN_ENGINE_SETTINGS),
        );
      } catch (error) {
        problems.push(`providers.${name}: ${(error as Error).message}`);
      }
    }
    if (problems.length > 0) throw new ConfigError('providers', problems);
    for (const [id, agentConfig] of Object.entries(config.agents)) {
      if (agentConfig.systemPrompt !== undefined) {
        try {
          checkTemplate(agentConfig.systemPrompt);
          for (const variable of unknownTemplateVariables(agentConfig.systemPrompt, Object.keys(agentConfig.variables))) {
            problems.push(`agents.${id}.systemPrompt: ${describeUnknownVariable(variable)}`);
          }
        } catch (error) {
          problems.push(`agents.${id}.systemPrompt: not a valid template: ${(error as Error).message}`);
        }
      }
      agentConfig.tools.forEach((tool, index) => {
        try {
          argumentValidator(tool);
        } catch (error) {
          problems.push(`agents.${id}.tools[${index}].parameters: not a usable JSON Schema: ${(error as Error).message}`);
        }
      });
      // The schema guarantees the provider exists.
      const primary = this.providers.get(agentConfig.provider)!;
      const targets: ProviderTarget[] = [
        { ...primary, model: agentConfig.model, params: NO_EXTRA_PARAMS },
        ...agentConfig.fallbacks.map((fallback) => ({
          ...this.providers.get(fallback.provider)!,
          model: fallback.model,
          params: fallback.params,
        })),
      ];
      this.agents.set(id, {
        id,
        config: agentConfig,
        provider: primary.provider,
        targets,
        router: new ToolRouter(agentConfig),
        // Built-in engines end calls on their own; a model only through the functions it is
        // offered (or its own commands, when the agent honours them); the gateway itself after
        // too many failed turns.
        mayEndOrTransfer:
          agentConfig.endCall !== undefined ||
          agentConfig.transfer !== undefined ||
          agentConfig.pressDigits !== undefined ||
          agentConfig.commands.fromModel ||
          agentConfig.onFailure.hangupAfterFailures > 0 ||
          targets.some((target) => target.provider.capabilities.endsCalls),
      });
    }
    if (problems.length > 0) throw new ConfigError('agents', problems);
    this.defaultAgent = config.defaultAgent === undefined ? undefined : this.agents.get(config.defaultAgent);
  }

  /** The agent named by `model`, else the default agent, else a 404 listing the available ones. */
  resolve(model: string): Agent {
    const agent = this.agents.get(model) ?? this.defaultAgent;
    if (agent) return agent;
    throw gatewayError('model_not_found', { model, available: this.ids() });
  }

  ids(): string[] {
    return [...this.agents.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.providers.values()].map((guarded) => guarded.provider.close()));
  }
}
