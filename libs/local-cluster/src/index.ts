// Public entry of @weft/local-cluster: the local cluster of DESIGN.md §5 (namespaces, detached processes, state file).
export * from './cluster';
export * from './names';
export * from './prerequisites';
export * from './state';
export { httpGetIn, isRunning, netnsExists, netnsPath, procStartTime, type HttpResult } from './system';
export * from './images';
export { startEchoServer, type EchoOptions } from './sample-apps/echo-server';
export { startHello, type HelloOptions } from './sample-apps/hello';
export { startHttpbin, type HttpbinOptions } from './sample-apps/httpbin';
export type { RunningApp } from './sample-apps/serve';
export * from './cni-chain';
export { applyManifests, deleteManifests, expandDeployment, readManifests, type ApplyReport, type KubeObject } from './apply';
