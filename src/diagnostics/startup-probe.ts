import type { GatewayConfig } from '../config/schema.ts';
import type { Logger } from '../telemetry/logger.ts';
import { probeUpstreams } from './probe-upstreams.ts';

/**
 * At start, in the background (the gateway is already serving): each upstream is probed once and
 * each problem logged as a warning that says what to fix (unreachable, key refused, unknown model),
 * so a team finds out before the first call instead of from an apology. Returns a cancel.
 */
export function startUpstreamProbe(config: GatewayConfig, logger: Logger, timeoutMs = 10_000): () => void {
  const controller = new AbortController();
  void probeUpstreams(config, { timeoutMs, signal: controller.signal }).then((findings) => {
    if (controller.signal.aborted) return;
    for (const finding of findings) {
      const line = `upstream probe: ${finding.subject}: ${finding.message}`;
      if (finding.status === 'PASS') logger.info({ probe: finding.subject }, line);
      else logger.warn({ probe: finding.subject }, line);
    }
  });
  return () => controller.abort();
}
