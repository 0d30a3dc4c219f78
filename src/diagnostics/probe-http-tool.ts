import { request } from 'undici';
import type { HttpToolConfig } from '../config/schema.ts';
import { errorCode, redactSecrets } from '../providers/upstream-errors.ts';
import { diagnosis, type Diagnosis } from './diagnosis.ts';

/**
 * Is an HTTP tool's endpoint there? A HEAD request (no arguments, no side effects expected): any
 * HTTP answer below 500 means a server listens (405 included); no answer is a FAIL.
 */
export async function probeHttpTool(subject: string, tool: HttpToolConfig, timeoutMs = 5000): Promise<Diagnosis> {
  const where = new URL(tool.url);
  const shown = `${where.origin}${where.pathname}`;
  try {
    const response = await request(tool.url, {
      method: 'HEAD',
      headers: { ...tool.headers, 'user-agent': 'voice-llm-gateway doctor' },
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
    });
    response.body.resume();
    if (response.statusCode >= 500) return diagnosis('WARN', subject, `${shown} answered HEAD with HTTP ${response.statusCode}`);
    return diagnosis('PASS', subject, `${shown} is reachable (HEAD answered ${response.statusCode})`);
  } catch (error) {
    const reason =
      errorCode(error) ??
      (error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : redactSecrets(String(error)));
    return diagnosis('FAIL', subject, `${shown} is not reachable (${reason})`);
  }
}
