import { PassThrough } from 'node:stream';
import { runSimulate } from '../../tools/cli/commands/simulate.ts';
import { textSink } from './text-sink.ts';

/** `voice-llm-gateway simulate ARGS` in this process, with no terminal input: its exit code and what it wrote. */
export async function simulateCommand(args: string[]): Promise<{ code: number; output: string; error: string }> {
  const output = textSink();
  const error = textSink();
  const code = await runSimulate(args, { output, error, input: new PassThrough() });
  return { code, output: output.text(), error: error.text() };
}
