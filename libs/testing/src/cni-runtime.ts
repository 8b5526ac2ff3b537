// The CNI runtime of the tests is the local cluster's production CNI-chain runner (libs/local-cluster/src/cni-chain.ts):
// each plugin of a conflist in order for ADD with `prevResult`, in reverse order for DEL, env per the CNI spec.
export { CniChainError, cniAdd, cniDel, type ChainInvocation, type PluginFailure } from '@weft/local-cluster';
