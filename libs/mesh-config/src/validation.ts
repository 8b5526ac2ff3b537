// Pure validation of Istio and Gateway API objects: every problem names the object and the field, with a stable code.

export { validateObject, validateObjects, type ValidationOptions, type ValidationResult } from './validate-objects';
export { FieldReader, parseGoDuration, type ValidationLevel, type ValidationMessage } from './validate-reader';
export { validateCrossObject, type CrossObjectOptions } from './validate-cross-object';
export { RETRY_ON_TOKENS } from './validate-virtual-service';
export { LOAD_BALANCER_SIMPLE } from './validate-destination-rule';
export { PORT_PROTOCOLS, SERVICE_ENTRY_RESOLUTIONS } from './validate-service-entry';
export { SUPPORTED_HTTPROUTE_FILTERS } from './validate-gateway-api';
