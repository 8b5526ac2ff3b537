// The waypoint's L7 configuration as xDS keeps it: WaypointServices by `<namespace>/<hostname>`, L7Authorizations
// and RequestAuthentications by `<namespace>/<name>`. Each xDS response replaces the named entries at once and bumps
// the version, so a request sees one consistent configuration; consumers that compile policies cache per version.

import type { L7Authorization, RequestAuthentication, WaypointService } from '@weft/mesh-model';

export interface L7Update<T> {
  readonly upserts: readonly T[];
  readonly removals: readonly string[];
}

export class L7Config {
  private readonly servicesByKey = new Map<string, WaypointService>();
  private readonly authorizationsByKey = new Map<string, L7Authorization>();
  private readonly authenticationsByKey = new Map<string, RequestAuthentication>();
  private currentVersion = 0;

  get version(): number {
    return this.currentVersion;
  }

  applyServices(update: L7Update<WaypointService>): void {
    for (const name of update.removals) this.servicesByKey.delete(name);
    for (const service of update.upserts) this.servicesByKey.set(`${service.namespace}/${service.hostname}`, service);
    this.currentVersion++;
  }

  applyAuthorizations(update: L7Update<L7Authorization>): void {
    for (const name of update.removals) this.authorizationsByKey.delete(name);
    for (const policy of update.upserts) this.authorizationsByKey.set(`${policy.namespace}/${policy.name}`, policy);
    this.currentVersion++;
  }

  applyAuthentications(update: L7Update<RequestAuthentication>): void {
    for (const name of update.removals) this.authenticationsByKey.delete(name);
    for (const policy of update.upserts) this.authenticationsByKey.set(`${policy.namespace}/${policy.name}`, policy);
    this.currentVersion++;
  }

  service(namespace: string, hostname: string): WaypointService | undefined {
    return this.servicesByKey.get(`${namespace}/${hostname}`);
  }

  services(): WaypointService[] {
    return [...this.servicesByKey.values()];
  }

  authorizations(): L7Authorization[] {
    return [...this.authorizationsByKey.values()];
  }

  authentications(): RequestAuthentication[] {
    return [...this.authenticationsByKey.values()];
  }
}
