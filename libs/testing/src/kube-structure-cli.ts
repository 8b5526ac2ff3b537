// Runs the structural check with @kubernetes/client-node's type tables. The client is ESM-only, which jest's
// CommonJS runtime cannot load, so tests run this file with node: objects as a JSON list on stdin, the problems as a
// JSON list of strings on stdout (each prefixed with the object's kind and name).

import { rootTypeName, structuralProblems, type AttributeType } from './kube-structure';

interface ModelClass {
  getAttributeTypeMap(): AttributeType[];
}

function isModelClass(value: unknown): value is ModelClass {
  return typeof value === 'function' && typeof (value as { getAttributeTypeMap?: unknown }).getAttributeTypeMap === 'function';
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const objects = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { apiVersion?: string; kind?: string; metadata?: { name?: string } }[];
  const k8s = (await import('@kubernetes/client-node')) as unknown as Record<string, unknown>;
  const lookup = (name: string): readonly AttributeType[] | undefined => {
    const model = k8s[name];
    return isModelClass(model) ? model.getAttributeTypeMap() : undefined;
  };
  const problems = objects.flatMap((object) => {
    const label = `${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
    if (object.apiVersion === undefined || object.kind === undefined) return [`${label}: no apiVersion or kind`];
    return structuralProblems(object, rootTypeName(object.apiVersion, object.kind), lookup).map((problem) => `${label}: ${problem}`);
  });
  process.stdout.write(JSON.stringify(problems));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
