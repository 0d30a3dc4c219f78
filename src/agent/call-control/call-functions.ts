import type { EndCallConfig, TransferConfig } from '../../config/schema.ts';
import type { FunctionToolDefinition } from '../../core/chat-types.ts';

/** The end-call function as the model sees it. */
export function endCallFunction(config: EndCallConfig): FunctionToolDefinition {
  return {
    type: 'function',
    function: {
      name: config.functionName,
      description: config.description,
      parameters: {
        type: 'object',
        properties: {
          farewell: {
            type: 'string',
            description: "A short goodbye in the caller's language. Leave it out if you already said goodbye.",
          },
        },
      },
    },
  };
}

/** The transfer function as the model sees it: the destination is an enum when there are several. */
export function transferFunction(config: TransferConfig): FunctionToolDefinition {
  const names = Object.keys(config.destinations);
  const choices = names
    .map((name) => (config.destinations[name]!.description ? `${name}: ${config.destinations[name]!.description}` : name))
    .join('; ');
  return {
    type: 'function',
    function: {
      name: config.functionName,
      description: names.length > 1 ? `${config.description} Destinations: ${choices}.` : config.description,
      parameters:
        names.length > 1
          ? {
              type: 'object',
              properties: { destination: { type: 'string', enum: names, description: 'Where to transfer the call.' } },
              required: ['destination'],
            }
          : { type: 'object', properties: {} },
    },
  };
}

/** The destination the model chose, or the first one when its choice is missing or unknown. */
export function chooseDestination(config: TransferConfig, argumentsJson: string): string {
  const names = Object.keys(config.destinations);
  const chosen = parseArguments(argumentsJson).destination;
  return typeof chosen === 'string' && names.includes(chosen) ? chosen : names[0]!;
}

/** The model's arguments as an object; anything unparseable counts as no arguments. */
export function parseArguments(argumentsJson: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(argumentsJson || '{}');
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
