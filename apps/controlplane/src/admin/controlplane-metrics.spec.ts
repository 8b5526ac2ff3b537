import { controlplaneMetrics } from './controlplane-metrics';
import { renderPrometheus } from '@weft/metrics';

const stats = { connected: 2, streamsTotal: 3, pushes: 5, resourcesSent: 7, removalsSent: 1, acks: 4, nacks: 1, authFailures: 0 };

describe('controlplaneMetrics', () => {
  it('renders istiod names with per-listener labels and CA outcomes', () => {
    const text = renderPrometheus(
      controlplaneMetrics({
        xds: [{ listener: 'grpc-xds', stats }],
        ca: { issued: 3, unauthenticated: 2, invalid: 1, error: 0 },
        rejectedConfigs: 1,
        warnedConfigs: 2,
        computations: 9,
        resources: new Map([['type.googleapis.com/istio.workload.Address', 4]]),
      }),
    );
    expect(text).toContain('pilot_xds{listener="grpc-xds"} 2');
    expect(text).toContain('pilot_total_xds_rejects{listener="grpc-xds"} 1');
    expect(text).toContain('pilot_total_rejected_configs 1');
    expect(text).toContain('pilot_xds_resources{type="type.googleapis.com/istio.workload.Address"} 4');
    expect(text).toContain('citadel_server_csr_count 6');
    expect(text).toContain('citadel_server_success_cert_issuance_count 3');
    expect(text).toContain('citadel_server_authentication_failure_count 2');
    expect(text).toContain('# TYPE pilot_xds gauge');
  });
});
