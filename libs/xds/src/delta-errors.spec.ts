// The one gRPC status → typed error mapping of the Delta ADS client.
import { status } from '@grpc/grpc-js';
import { DeltaAdsError, streamStatusError } from './delta-errors';

describe('streamStatusError', () => {
  it.each([
    { grpc: status.UNAUTHENTICATED, code: 'ERR_XDS_UNAUTHENTICATED', hinted: true },
    { grpc: status.PERMISSION_DENIED, code: 'ERR_XDS_UNAUTHENTICATED', hinted: true },
    { grpc: status.INVALID_ARGUMENT, code: 'ERR_XDS_BAD_REQUEST', hinted: false },
    { grpc: status.UNAVAILABLE, code: 'ERR_XDS_STREAM_FAILED', hinted: false },
    { grpc: status.CANCELLED, code: 'ERR_XDS_STREAM_FAILED', hinted: false },
  ])('maps gRPC status $grpc to $code', ({ grpc, code, hinted }) => {
    const err = streamStatusError(grpc, 'details here');
    expect(err).toBeInstanceOf(DeltaAdsError);
    expect(err).toMatchObject({ code, grpcCode: grpc, name: 'DeltaAdsError' });
    expect(err.message).toContain('details here');
    expect(err.hint !== undefined).toBe(hinted);
  });
});
