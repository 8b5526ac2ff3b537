// The chained CNI plugin executable: the container runtime runs it after the interface plugins with the CNI
// environment and the network config (with prevResult) on stdin. It configures nothing; for ADD it asks the
// node agent to enroll the pod and fails if the agent cannot redirect an ambient pod.

import { request } from 'node:http';

import {
  CNI_ERRORS,
  addResult,
  errorReply,
  parseInvocation,
  passThroughReply,
  planAdd,
  versionReply,
  type AgentAddRequest,
  type AgentOutcome,
} from './cni-protocol';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

export function postToAgent(socketPath: string, body: AgentAddRequest, timeoutMs: number, path = '/cmdadd'): Promise<AgentOutcome> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const req = request(
      { socketPath, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ kind: 'reply', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => resolve({ kind: 'unreachable', reason: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ kind: 'unreachable', reason: `${socketPath}: ${error.message}` }));
    req.end(payload);
  });
}

async function main(): Promise<number> {
  const stdin = process.env['CNI_COMMAND'] === 'VERSION' ? '' : await readStdin();
  if (process.env['CNI_COMMAND'] === 'VERSION') {
    process.stdout.write(versionReply());
    return 0;
  }
  const parsed = parseInvocation(process.env, stdin);
  if (!parsed.ok) {
    process.stdout.write(errorReply(parsed.error));
    return 1;
  }
  const invocation = parsed.value;
  switch (invocation.command) {
    case 'VERSION':
      process.stdout.write(versionReply());
      return 0;
    case 'CHECK':
      // Nothing of ours lives in the pod's interfaces.
      return 0;
    case 'DEL': {
      // The sandbox is going away: tell the agent so ztunnel drops the pod now. DEL must succeed even when there is
      // nothing to clean (CNI spec), so an unreachable agent is not an error; its watch catches up later.
      const plan = planAdd(invocation);
      if (plan.kind === 'ask-agent') await postToAgent(invocation.config.agentSocket, plan.request, invocation.config.agentTimeoutMs, '/cmddel');
      return 0;
    }
    case 'ADD': {
      const plan = planAdd(invocation);
      if (plan.kind === 'pass-through') {
        process.stdout.write(passThroughReply(invocation.config));
        return 0;
      }
      const outcome = await postToAgent(invocation.config.agentSocket, plan.request, invocation.config.agentTimeoutMs);
      const result = addResult(invocation.config, plan.request, outcome);
      process.stdout.write(result.stdout);
      return result.ok ? 0 : 1;
    }
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stdout.write(errorReply({ code: CNI_ERRORS.ioFailure, msg: 'weft-cni failed', details: String(error) }));
      process.exit(1);
    },
  );
}
