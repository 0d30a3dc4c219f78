import type { ProviderConfig } from '../config/schema.ts';
import { OpenAICompatibleProvider } from './openai-compatible.ts';
import type { Provider } from './provider.ts';
import { ScriptedProvider } from './scripted.ts';

/** Builds the provider a config entry describes. */
export function createProvider(name: string, config: ProviderConfig): Provider {
  switch (config.type) {
    case 'openai-compatible':
      return new OpenAICompatibleProvider(name, config);
    case 'scripted':
      return new ScriptedProvider(name, config);
  }
}
