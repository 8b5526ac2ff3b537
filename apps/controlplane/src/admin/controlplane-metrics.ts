// The controlplane's /metrics, rendered from the counters its parts already keep. Names are istiod's
// (pilot_* for xDS, citadel_server_* for the CA) so existing dashboards and alerts work unchanged.

import type { DeltaAdsServerStats } from '@weft/xds';

import type { CertificateServiceStats } from '../ca/certificate-service';
import type { MetricFamily } from '@weft/metrics';

export interface ControlplaneCounters {
  /** One entry per xDS listener, labelled by its port name. */
  readonly xds: readonly { readonly listener: string; readonly stats: DeltaAdsServerStats }[];
  readonly ca: Readonly<CertificateServiceStats>;
  /** Objects currently rejected by validation (served from their last good version or left out). */
  readonly rejectedConfigs: number;
  /** Objects with at least one warning. */
  readonly warnedConfigs: number;
  /** Completed recomputations of the mesh. */
  readonly computations: number;
  /** Resources served, by type URL. */
  readonly resources: ReadonlyMap<string, number>;
}

function perListener(
  counters: ControlplaneCounters,
  pick: (stats: DeltaAdsServerStats) => number,
): { labels: Record<string, string>; value: number }[] {
  return counters.xds.map(({ listener, stats }) => ({ labels: { listener }, value: pick(stats) }));
}

export function controlplaneMetrics(counters: ControlplaneCounters): MetricFamily[] {
  const ca = counters.ca;
  const csrTotal = ca.issued + ca.unauthenticated + ca.invalid + ca.error;
  return [
    { name: 'pilot_xds', help: 'Number of endpoints connected to this pilot using XDS.', type: 'gauge', samples: perListener(counters, (s) => s.connected) },
    { name: 'pilot_xds_pushes', help: 'Delta responses pushed to proxies.', type: 'counter', samples: perListener(counters, (s) => s.pushes) },
    { name: 'pilot_xds_resources_sent', help: 'Resources sent in delta responses.', type: 'counter', samples: perListener(counters, (s) => s.resourcesSent) },
    { name: 'pilot_xds_removals_sent', help: 'Resource removals sent in delta responses.', type: 'counter', samples: perListener(counters, (s) => s.removalsSent) },
    { name: 'pilot_xds_acks', help: 'Delta responses acknowledged by proxies.', type: 'counter', samples: perListener(counters, (s) => s.acks) },
    { name: 'pilot_total_xds_rejects', help: 'Total number of XDS responses from pilot rejected by proxy.', type: 'counter', samples: perListener(counters, (s) => s.nacks) },
    { name: 'pilot_xds_auth_failures', help: 'xDS streams refused because the caller did not authenticate.', type: 'counter', samples: perListener(counters, (s) => s.authFailures) },
    { name: 'pilot_total_rejected_configs', help: 'Total number of configs that Pilot had to reject or ignore.', type: 'gauge', samples: [{ value: counters.rejectedConfigs }] },
    { name: 'pilot_configs_with_warnings', help: 'Configs currently carrying validation or translation warnings.', type: 'gauge', samples: [{ value: counters.warnedConfigs }] },
    { name: 'pilot_mesh_computations', help: 'Recomputations of the served resources after a config change.', type: 'counter', samples: [{ value: counters.computations }] },
    {
      name: 'pilot_xds_resources',
      help: 'Resources currently served, by type.',
      type: 'gauge',
      samples: [...counters.resources].map(([type, value]) => ({ labels: { type }, value })),
    },
    { name: 'citadel_server_csr_count', help: 'The number of CSRs received by Citadel server.', type: 'counter', samples: [{ value: csrTotal }] },
    { name: 'citadel_server_success_cert_issuance_count', help: 'The number of certificates issuances that have succeeded.', type: 'counter', samples: [{ value: ca.issued }] },
    { name: 'citadel_server_authentication_failure_count', help: 'The number of authentication failures.', type: 'counter', samples: [{ value: ca.unauthenticated }] },
    { name: 'citadel_server_csr_parsing_err_count', help: 'The number of errors occurred when parsing the CSR.', type: 'counter', samples: [{ value: ca.invalid }] },
    { name: 'citadel_server_csr_sign_err_count', help: 'The number of errors occurred when signing the CSR.', type: 'counter', samples: [{ value: ca.error }] },
  ];
}
