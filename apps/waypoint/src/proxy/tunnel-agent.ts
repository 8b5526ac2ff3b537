// Upstream HTTP/1.1 keep-alive over HBONE: one Node http.Agent per endpoint whose connections are tunnels (an
// HBONE CONNECT each, opened on demand, kept open while idle and reused by later requests), so a request costs a
// stream only when no idle tunnel to its endpoint is free. Dial failures are marked, so the caller can tell a
// connect failure (retriable as `connect-failure`) from a reset of an established tunnel.

import * as http from 'node:http';
import type { Duplex } from 'node:stream';

/** How long an idle upstream tunnel is kept for reuse. */
export const UPSTREAM_IDLE_TIMEOUT_MS = 60_000;
/** How long opening a tunnel may take (Istio's default connect timeout is 10 s). */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

/** A failure to open the tunnel: nothing was sent to the endpoint. */
export class UpstreamConnectError extends Error {
  readonly code = 'ERR_UPSTREAM_CONNECT';
}

type Dial = (signal: AbortSignal) => Promise<Duplex>;

/**
 * The socket methods Node's Agent and ClientRequest call, where a tunnel stream lacks them (no-ops or timers).
 * As net.Socket's, `setTimeout(0, callback)` removes the listener (ClientRequest clears its per-request one that way
 * when it frees the socket), so a long-lived pooled tunnel does not gather one listener per request it carried.
 */
function socketLike(stream: Duplex): Duplex {
  const s = stream as Duplex &
    Partial<Record<'setKeepAlive' | 'setNoDelay' | 'ref' | 'unref', (...args: unknown[]) => unknown>> & { setTimeout?: (ms: number, callback?: () => void) => unknown };
  s.setKeepAlive ??= () => s;
  s.setNoDelay ??= () => s;
  s.ref ??= () => s;
  s.unref ??= () => s;
  if (s.setTimeout === undefined) {
    let timer: NodeJS.Timeout | undefined;
    let timerMs = 0;
    s.setTimeout = (ms: number, callback?: () => void) => {
      if (ms > 0) {
        if (callback !== undefined) s.once('timeout', callback);
        // The Agent re-arms the idle timeout each time it pools the tunnel: restart the timer rather than replace it.
        if (timer !== undefined && timerMs === ms) {
          timer.refresh();
          return s;
        }
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => s.emit('timeout'), ms);
        timer.unref();
        timerMs = ms;
        return s;
      }
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (callback !== undefined) {
        s.removeListener('timeout', callback);
      }
      return s;
    };
    s.once('close', () => {
      if (timer !== undefined) clearTimeout(timer);
    });
  }
  return s;
}

/**
 * `servername: ''` (merged into every request's connection options) only spares the Agent working out a TLS server
 * name from each request's Host header: the tunnel's TLS is HBONE's, set up by the pool.
 */
const AGENT_OPTIONS: http.AgentOptions & { readonly servername: string } = {
  keepAlive: true,
  maxFreeSockets: 32,
  scheduling: 'lifo',
  timeout: UPSTREAM_IDLE_TIMEOUT_MS,
  servername: '',
};

class TunnelAgent extends http.Agent {
  constructor(private readonly dial: Dial) {
    super(AGENT_OPTIONS);
  }

  override createConnection(_options: http.ClientRequestArgs, callback?: (error: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    this.dial(AbortSignal.timeout(UPSTREAM_CONNECT_TIMEOUT_MS)).then(
      (stream) => callback?.(null, socketLike(stream)),
      (cause: unknown) => callback?.(new UpstreamConnectError(cause instanceof Error ? cause.message : String(cause)), undefined as never),
    );
    // Asynchronous: the socket arrives through the callback.
    return undefined;
  }
}

/** Agents per endpoint key; `close` destroys every pooled tunnel. */
export class TunnelAgents {
  private readonly agents = new Map<string, TunnelAgent>();

  agent(key: string, dial: Dial): http.Agent {
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = new TunnelAgent(dial);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Drops the agents whose key `keep` refuses (endpoints no longer known); their tunnels are closed. */
  retain(keep: (key: string) => boolean): void {
    for (const [key, agent] of this.agents) {
      if (keep(key)) continue;
      agent.destroy();
      this.agents.delete(key);
    }
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
