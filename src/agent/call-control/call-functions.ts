import type { EndCallConfig, TransferConfig } from '../../config/schema.ts';
import type { FunctionToolDefinition } from '../../core/chat-types.ts';
import type { Phrases } from '../language/phrases.ts';

/** The end-call function as the model sees it; what the operator did not word is in `phrases`' language. */
export function endCallFunction(config: EndCallConfig, phrases: Phrases): FunctionToolDefinition {
  return {
    type: 'function',
    function: {
      name: config.functionName,
      description: config.description ?? phrases.endCallDescription,
      parameters: {
        type: 'object',
        properties: {
          farewell: { type: 'string', description: phrases.farewellArgument },
        },
      },
    },
  };
}

/** The transfer function as the model sees it: the destination is an enum when there are several. */
export function transferFunction(config: TransferConfig, phrases: Phrases): FunctionToolDefinition {
  const names = Object.keys(config.destinations);
  const description = config.description ?? phrases.transferDescription;
  const choices = names.map((name) => {
    const about = config.destinations[name]!.description;
    return about ? phrases.destinationChoice(name, about) : name;
  });
  return {
    type: 'function',
    function: {
      name: config.functionName,
      description: names.length > 1 ? description + phrases.destinations(choices) : description,
      parameters:
        names.length > 1
          ? {
              type: 'object',
              properties: { destination: { type: 'string', enum: names, description: phrases.destinationArgument } },
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
