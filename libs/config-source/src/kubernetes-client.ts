// The real KubeApi over @kubernetes/client-node. That package is ESM-only while this workspace is CommonJS, so
// it is loaded with a dynamic import() here and nowhere else; importing the library never loads it.
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { KubeObject } from '@weft/mesh-config';

import type { KubeApi, WatchInformer } from './kubernetes-source';
import { apiVersionOf, resourcePath, statusCodeOf, type ApiResource } from './kubernetes-resources';

/** The field manager named on every write, so `kubectl get --show-managed-fields` says who wrote it. */
export const WEFT_FIELD_MANAGER = 'weft-controlplane';

export interface KubeApiOptions {
  /** A kubeconfig file; default: in-cluster service account, then $KUBECONFIG / ~/.kube/config. */
  readonly kubeconfigPath?: string;
  readonly fieldManager?: string;
}

export async function loadKubeApi(options: KubeApiOptions = {}): Promise<KubeApi> {
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  if (options.kubeconfigPath !== undefined) config.loadFromFile(options.kubeconfigPath);
  else config.loadFromDefault();
  const objects = k8s.KubernetesObjectApi.makeApiClient(config);
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const fieldManager = options.fieldManager ?? WEFT_FIELD_MANAGER;
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

  return {
    createInformer(resource: ApiResource): WatchInformer {
      const { fieldSelector } = resource;
      const list = (): Promise<KubernetesListObject<KubernetesObject>> =>
        objects.list<KubernetesObject>(apiVersionOf(resource), resource.kind, undefined, undefined, undefined, undefined, fieldSelector);
      // `makeInformer` takes no field selector; the ListWatch it wraps does, and puts it on the list and every watch.
      const informer = new k8s.ListWatch<KubernetesObject>(resourcePath(resource), new k8s.Watch(config), list, false, undefined, fieldSelector);
      return {
        on(verb, callback) {
          if (verb === 'error') informer.on(k8s.ERROR, callback);
          else informer.on(verb, callback);
        },
        start: () => informer.start(),
        stop: () => informer.stop(),
        list: () => informer.list(),
      };
    },
    async mergePatchAnnotations(resource, namespace, name, annotations) {
      const metadata = { name, ...(resource.namespaced ? { namespace } : {}), annotations };
      const body = { apiVersion: apiVersionOf(resource), kind: resource.kind, metadata } as KubernetesObject;
      await objects.patch(body, undefined, undefined, fieldManager, undefined, k8s.PatchStrategy.MergePatch);
    },
    async mergePatchStatus(resource, namespace, name, patch) {
      const { group, version, plural } = resource;
      await custom.patchNamespacedCustomObjectStatus(
        { group, version, namespace, plural, name, body: patch, fieldManager },
        mergePatch,
      );
    },
    async applyObject(object) {
      // JSON is YAML, so the client's JSON body is a valid apply-patch+yaml document.
      const body = object as unknown as KubernetesObject;
      await objects.patch(body, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
    },
    async createObject(object) {
      try {
        await objects.create(object as unknown as KubernetesObject, undefined, undefined, fieldManager);
        return true;
      } catch (cause) {
        if (statusCodeOf(cause) === 409) return false;
        throw cause;
      }
    },
    async replaceObject(object) {
      try {
        await objects.replace(object as unknown as KubernetesObject, undefined, undefined, fieldManager);
        return true;
      } catch (cause) {
        if (statusCodeOf(cause) === 409) return false;
        throw cause;
      }
    },
    async deleteObject(apiVersion, kind, namespace, name) {
      try {
        const metadata = { name, ...(namespace === '' ? {} : { namespace }) };
        // Background: the garbage collector removes what the object owns (a Deployment's ReplicaSets and pods).
        await objects.delete({ apiVersion, kind, metadata }, undefined, undefined, undefined, undefined, 'Background');
      } catch (cause) {
        if (statusCodeOf(cause) !== 404) throw cause;
      }
    },
    async getObject(apiVersion, kind, namespace, name) {
      try {
        const metadata = { name, ...(namespace === '' ? {} : { namespace }) };
        const object = await objects.read<KubernetesObject>({ apiVersion, kind, metadata });
        return object as unknown as KubeObject;
      } catch (cause) {
        if (statusCodeOf(cause) === 404) return undefined;
        throw cause;
      }
    },
  };
}

/** The `authentication.k8s.io/v1` TokenReview status fields a caller check reads. */
export interface TokenReviewResult {
  readonly authenticated?: boolean;
  readonly error?: string;
  readonly audiences?: readonly string[];
  readonly user?: {
    readonly username?: string;
    readonly uid?: string;
    readonly extra?: Readonly<Record<string, readonly string[]>>;
  };
}

/** Creates TokenReviews with the controlplane's own credentials (the CA's check of a caller's bearer token). */
export async function loadTokenReviewer(
  options: KubeApiOptions = {},
): Promise<(token: string, audiences: readonly string[]) => Promise<TokenReviewResult>> {
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  if (options.kubeconfigPath !== undefined) config.loadFromFile(options.kubeconfigPath);
  else config.loadFromDefault();
  const authentication = config.makeApiClient(k8s.AuthenticationV1Api);
  return async (token, audiences) => {
    const review = await authentication.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [...audiences] } },
    });
    return review.status ?? {};
  };
}
