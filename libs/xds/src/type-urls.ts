// xDS type URLs Weft serves and consumes (reference §4.1). The first two are Istio's, so a real ztunnel can
// subscribe to them; the weft.l7.v1 ones carry waypoint L7 configuration.

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

export const ADDRESS_TYPE_URL = 'type.googleapis.com/istio.workload.Address';
export const AUTHORIZATION_TYPE_URL = 'type.googleapis.com/istio.security.Authorization';
export const WAYPOINT_SERVICE_TYPE_URL = 'type.googleapis.com/weft.l7.v1.WaypointService';
export const L7_AUTHORIZATION_TYPE_URL = 'type.googleapis.com/weft.l7.v1.L7Authorization';
export const REQUEST_AUTHENTICATION_TYPE_URL = 'type.googleapis.com/weft.l7.v1.RequestAuthentication';

export const DELTA_ADS_METHOD_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
