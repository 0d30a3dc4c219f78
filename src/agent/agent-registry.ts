import { ConfigError } from '../config/config-error.ts';
import type { AgentConfig, GatewayConfig } from '../config/schema.ts';
import { GatewayError } from '../protocol/gateway-error.ts';
import { createProvider } from '../providers/create-provider.ts';
import type { Provider } from '../providers/provider.ts';
import { checkTemplate } from './prompt/render-template.ts';
import { ToolRouter } from './tool-router.ts';

/** An agent: what a ModelId typed into a voice platform's console resolves to. */
export interface Agent {
  readonly id: string;
  readonly config: AgentConfig;
  readonly provider: Provider;
  /** The functions the gateway offers the model for this agent, and who handles each. */
  readonly router: ToolRouter;
}

/** Builds every provider once and resolves the `model` of each request to an agent. */
export class AgentRegistry {
  private readonly agents = new Map<string, Agent>();
  private readonly providers = new Map<string, Provider>();
  private readonly defaultAgent: Agent | undefined;

  constructor(config: GatewayConfig) {
    const problems: string[] = [];
    for (const [name, providerConfig] of Object.entries(config.providers)) {
      try {
        this.providers.set(name, createProvider(name, providerConfig));
      } catch (error) {
        problems.push(`providers.${name}: ${(error as Error).message}`);
      }
    }
    if (problems.length > 0) throw new ConfigError('providers', problems);
    for (const [id, agentConfig] of Object.entries(config.agents)) {
      if (agentConfig.systemPrompt !== undefined) {
        try {
          checkTemplate(agentConfig.systemPrompt);
        } catch (error) {
          problems.push(`agents.${id}.systemPrompt: not a valid template: ${(error as Error).message}`);
        }
      }
      // The schema guarantees the provider exists.
      const provider = this.providers.get(agentConfig.provider)!;
      this.agents.set(id, { id, config: agentConfig, provider, router: new ToolRouter(agentConfig) });
    }
    if (problems.length > 0) throw new ConfigError('agents', problems);
    this.defaultAgent = config.defaultAgent === undefined ? undefined : this.agents.get(config.defaultAgent);
  }

  /** The agent named by `model`, else the default agent, else a 404 listing the available ones. */
  resolve(model: string): Agent {
    const agent = this.agents.get(model) ?? this.defaultAgent;
    if (agent) return agent;
    throw new GatewayError(
      `The model "${model}" does not exist. Available models: ${this.ids().join(', ')}.`,
      { status: 404, type: 'invalid_request_error', code: 'model_not_found', param: 'model' },
    );
  }

  ids(): string[] {
    return [...this.agents.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.providers.values()].map((provider) => provider.close()));
  }
}
