import type { ServerResponse } from 'node:http';

/**
 * Writes SSE events with as few syscalls as latency allows: the first event after a quiet spell
 * goes to the socket at once (nobody waits for the first word), and the events produced in the same
 * turn of the event loop behind it are joined into one write at the end of that turn.
 */
export class SseWriter {
  private readonly res: ServerResponse;
  private pending = '';
  private batching = false;
  private readonly flush = (): void => {
    this.batching = false;
    if (this.pending !== '' && !this.res.destroyed) {
      const chunk = this.pending;
      this.pending = '';
      this.res.write(chunk);
    }
  };

  constructor(res: ServerResponse) {
    this.res = res;
  }

  write(event: string): void {
    if (this.batching) {
      this.pending += event;
      return;
    }
    this.res.write(event);
    this.batching = true;
    setImmediate(this.flush);
  }

  /** True when the client reads slower than we write (wait for 'drain'). */
  get congested(): boolean {
    return this.res.writableNeedDrain;
  }

  end(last: string): void {
    const chunk = this.pending + last;
    this.pending = '';
    this.res.end(chunk);
  }
}
