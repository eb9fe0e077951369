/**
 * A rendered Kubernetes object. Its fields are read loosely on purpose: the
 * tests assert on them one by one, and kubeconform has already checked every type.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above.
type Loose = any;
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: Loose };
  [k: string]: Loose;
};
