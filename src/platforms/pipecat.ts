import { appFramework } from './app-framework.ts';

/** Pipecat (`OpenAILLMService(base_url=…)`): plain OpenAI bodies, the call named by the application. */
export const pipecatPlatform = appFramework('pipecat');
