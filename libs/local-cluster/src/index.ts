// Public entry of @weft/local-cluster: the local cluster of DESIGN.md §5 (namespaces, detached processes, state file).
export * from './cluster';
export * from './names';
export * from './prerequisites';
export * from './state';
export { httpGetIn, isRunning, netnsEtcDir, netnsExists, netnsPath, procStartTime, type HttpResult } from './system';
export * from './images';
export { startEchoServer, type EchoOptions } from './sample-apps/echo-server';
export { startHello, type HelloOptions } from './sample-apps/hello';
export { startHttpbin, type HttpbinOptions } from './sample-apps/httpbin';
export type { RunningApp } from './sample-apps/serve';
export * from './cni-chain';
export { applyManifests, applyObjects, deleteManifests, deleteObjects, deploymentPod, expandDeployment, loadDeployment, podRecords, restartDeployment, scaleDeployment, type ApplyReport, type PodRecord } from './apply';
export { readManifests, type KubeObject } from './manifests';
export * from './services';
export { clusterPods, clusterServices, nodeNatRules } from './networking';
export * from './kubectl';
