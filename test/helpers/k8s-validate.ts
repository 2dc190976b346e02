/**
 * Offline validation of rendered chart objects against the Kubernetes and prometheus-operator OpenAPI
 * schemas (npm kubernetes-models, @kubernetes-models/prometheus-operator): no cluster, no network.
 */
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'

type Validator = (obj: Record<string, unknown>) => void
const wrap = <T extends { validate: () => void }>(Model: new (o: never) => T): Validator => obj => new Model(obj as never).validate()

const MODELS: Record<string, Validator> = {
  'v1/ConfigMap': wrap(ConfigMap),
  'v1/Pod': wrap(Pod),
  'v1/Secret': wrap(Secret),
  'v1/Service': wrap(Service),
  'v1/ServiceAccount': wrap(ServiceAccount),
  'apps/v1/Deployment': wrap(Deployment),
  'autoscaling/v2/HorizontalPodAutoscaler': wrap(HorizontalPodAutoscaler),
  'networking.k8s.io/v1/NetworkPolicy': wrap(NetworkPolicy),
  'policy/v1/PodDisruptionBudget': wrap(PodDisruptionBudget),
  'monitoring.coreos.com/v1/PrometheusRule': wrap(PrometheusRule),
  'monitoring.coreos.com/v1/ServiceMonitor': wrap(ServiceMonitor)
}

/** Throws naming the object and the schema error; an apiVersion/kind without a model is an error too. */
export function validateObject (obj: { apiVersion?: string, kind?: string, metadata?: { name?: string } }): void {
  const key = `${obj.apiVersion ?? '?'}/${obj.kind ?? '?'}`
  const validate = MODELS[key]
  if (validate === undefined) throw new Error(`${key} ${obj.metadata?.name ?? ''}: no schema known (add its model to test/helpers/k8s-validate.ts)`)
  try {
    validate(obj as Record<string, unknown>)
  } catch (err) {
    throw new Error(`${key} ${obj.metadata?.name ?? ''}: ${(err as Error).message}`)
  }
}
